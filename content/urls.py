from django.urls import path

from . import asset_views, panel_views, views

app_name = "content"

urlpatterns = [
    path("content/", views.asset_list, name="asset_list"),
    path("content/propose-mapping/", views.mapping_propose, name="mapping_propose"),
    path("content/new/", asset_views.asset_new, name="asset_new"),
    path("content/import/", asset_views.asset_import, name="asset_import"),
    path("content/<str:code>/", asset_views.asset_detail, name="asset_detail"),
    path("content/<str:code>/edit/", asset_views.asset_edit, name="asset_edit"),
    path("content/<str:code>/status/", asset_views.asset_status, name="asset_status"),
    path(
        "segments/<str:key>/content/",
        panel_views.segment_content_panel,
        name="segment_content_panel",
    ),
    path("mappings/", views.mapping_list, name="mapping_list"),
    path("mappings/<int:pk>/", views.mapping_detail, name="mapping_detail"),
]
