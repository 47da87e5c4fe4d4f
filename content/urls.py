from django.urls import path

from . import views

app_name = "content"

urlpatterns = [
    path("content/", views.asset_list, name="asset_list"),
    path("content/propose-mapping/", views.mapping_propose, name="mapping_propose"),
    path("mappings/", views.mapping_list, name="mapping_list"),
    path("mappings/<int:pk>/", views.mapping_detail, name="mapping_detail"),
]
