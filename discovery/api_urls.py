from django.urls import path

from . import api

urlpatterns = [
    path("discovery/describe/", api.DescribeView.as_view(), name="api-discovery-describe"),
    path("discovery/personas/", api.PersonasView.as_view(), name="api-discovery-personas"),
    path(
        "segments/<str:key>/differentiators/",
        api.DifferentiatorsView.as_view(),
        name="api-segment-differentiators",
    ),
]
