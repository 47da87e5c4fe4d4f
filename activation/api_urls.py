from django.urls import path

from . import api

urlpatterns = [
    path("destinations/", api.DestinationListView.as_view(), name="api-destinations"),
    path("destinations/<str:key>/", api.DestinationDetailView.as_view(), name="api-destination"),
    path(
        "segments/<str:key>/publications/",
        api.SegmentPublicationsView.as_view(),
        name="api-segment-publications",
    ),
    path("publications/", api.PublicationListView.as_view(), name="api-publications"),
    path("publications/<str:pk>/", api.PublicationDetailView.as_view(), name="api-publication"),
    path(
        "publications/<str:pk>/sync/",
        api.PublicationSyncView.as_view(),
        name="api-publication-sync",
    ),
    path(
        "publications/<str:pk>/pause/",
        api.PublicationPauseView.as_view(),
        name="api-publication-pause",
    ),
    path(
        "publications/<str:pk>/resume/",
        api.PublicationResumeView.as_view(),
        name="api-publication-resume",
    ),
    path(
        "publications/<str:pk>/syncs/",
        api.PublicationSyncsView.as_view(),
        name="api-publication-syncs",
    ),
    path(
        "publications/<str:pk>/measurement/",
        api.PublicationMeasurementView.as_view(),
        name="api-publication-measurement",
    ),
]
