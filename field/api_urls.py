from django.urls import path

from . import api

urlpatterns = [
    path(
        "territories/<str:code>/segments/",
        api.TerritorySegmentsView.as_view(),
        name="api-territory-segments",
    ),
]
