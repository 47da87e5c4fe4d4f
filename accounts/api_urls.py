from django.urls import path

from .api_auth import ObtainTokenView, RevokeAllTokensView, RevokeTokenView

urlpatterns: list = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-auth-token"),
    path("auth/logout/", RevokeTokenView.as_view(), name="api-auth-logout"),
    path("auth/logout-all/", RevokeAllTokensView.as_view(), name="api-auth-logout-all"),
]
