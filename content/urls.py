from django.urls import path

from . import views

app_name = "content"

urlpatterns = [
    path("content/", views.asset_list, name="asset_list"),
    path("content/propose-mapping/", views.mapping_propose, name="mapping_propose"),
]
