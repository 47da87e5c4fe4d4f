from django.urls import path

from . import api

urlpatterns = [
    path("audit/", api.AuditView.as_view(), name="api-audit"),
    path("segments/<str:key>/submit/", api.SubmitView.as_view(), name="api-segment-submit"),
    path("segments/<str:key>/signatures/", api.SignatureView.as_view(), name="api-segment-sign"),
    path("segments/<str:key>/activate/", api.ActivateView.as_view(), name="api-segment-activate"),
    path("segments/<str:key>/retire/", api.RetireView.as_view(), name="api-segment-retire"),
]
