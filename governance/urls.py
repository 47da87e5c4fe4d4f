from django.urls import path

from . import views

app_name = "governance"

urlpatterns = [
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/<str:key>/v<int:number>/", views.review_detail, name="review_detail"),
    path("reviews/<str:key>/v<int:number>/overlap/", views.review_overlap, name="review_overlap"),
    path("mappings/", views.mapping_list, name="mapping_list"),
    path("mappings/<int:pk>/", views.mapping_detail, name="mapping_detail"),
]
