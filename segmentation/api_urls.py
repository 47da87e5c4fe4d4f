from django.urls import path

from . import api

urlpatterns = [
    path("fields/", api.FieldCatalogView.as_view(), name="api-fields"),
    path("segments/", api.SegmentListView.as_view(), name="api-segments"),
    path("segments/preview/", api.PreviewView.as_view(), name="api-segment-preview"),
    path("segments/<str:key>/", api.SegmentDetailView.as_view(), name="api-segment"),
    path(
        "segments/<str:key>/recompute/", api.RecomputeView.as_view(), name="api-segment-recompute"
    ),
    path("segments/<str:key>/backtest/", api.BacktestView.as_view(), name="api-segment-backtest"),
    path("segments/<str:key>/members/", api.MembersView.as_view(), name="api-segment-members"),
    path("segments/<str:key>/history/", api.HistoryView.as_view(), name="api-segment-history"),
]
