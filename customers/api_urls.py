from django.urls import path

from . import api

urlpatterns = [
    path("customers/", api.CustomerListView.as_view(), name="api-customers"),
    path("imports/", api.ImportView.as_view(), name="api-imports"),
    path("imports/<int:pk>/", api.ImportStatusView.as_view(), name="api-import-status"),
    path("interactions/", api.InteractionCreateView.as_view(), name="api-interactions"),
]
