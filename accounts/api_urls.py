from django.urls import path

from .api_auth import ObtainTokenView

urlpatterns: list = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-auth-token"),
]
