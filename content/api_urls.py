from django.urls import path

from . import api

urlpatterns = [
    path("assets/", api.AssetListView.as_view(), name="api-assets"),
    path("assets/<str:code>/", api.AssetDetailView.as_view(), name="api-asset"),
    path("assets/<str:code>/file/", api.AssetFileView.as_view(), name="api-asset-file"),
    path("assets/<str:code>/status/", api.AssetStatusView.as_view(), name="api-asset-status"),
    path("mappings/", api.MappingListView.as_view(), name="api-mappings"),
    path("mappings/<int:pk>/", api.MappingDetailView.as_view(), name="api-mapping"),
    path(
        "mappings/<int:pk>/decision/",
        api.MappingDecisionView.as_view(),
        name="api-mapping-decision",
    ),
]
