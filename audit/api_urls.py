from django.urls import path

from . import api

urlpatterns = [
    path("audit/", api.AuditView.as_view(), name="api-audit"),
]
