from django.urls import path

from . import views

app_name = "field"

urlpatterns = [
    path("territories/", views.territory_list, name="territory_list"),
    path("territories/<str:code>/", views.territory_detail, name="territory_detail"),
    path("territories/<str:code>/export.csv", views.territory_export, name="territory_export"),
]
