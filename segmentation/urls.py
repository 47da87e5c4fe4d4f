from django.urls import path

from accounts.views import home

from . import entity_views, views

app_name = "segmentation"

urlpatterns = [
    path("", home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("segments/", views.segment_list, name="segment_list"),
    path("segments/new/", views.segment_new, name="segment_new"),
    path("segments/preview/", views.rule_preview, name="rule_preview"),
    path("segments/<str:key>/", views.segment_detail, name="segment_detail"),
    path("segments/<str:key>/recompute/", views.segment_recompute, name="segment_recompute"),
    path("segments/<str:key>/backtest/", views.segment_backtest, name="segment_backtest"),
    path("organizations/<str:account_id>/", entity_views.account_detail, name="account_detail"),
    path("hcps/<str:npi>/", entity_views.customer_detail, name="customer_detail"),
]
