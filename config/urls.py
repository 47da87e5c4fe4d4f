from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from core.views import favicon, help_page

from .health import HealthView

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("customers.api_urls")),
    path("", include("segmentation.api_urls")),
    path("", include("content.api_urls")),
    path("", include("governance.api_urls")),
    path("", include("field.api_urls")),
    path("", include("core.api_urls")),
    path("", include("discovery.api_urls")),
    path("", include("activation.api_urls")),
]

# Under /api/ Django's own 400/404/500 answers keep the error shape (core.views).
handler400 = "core.views.bad_request"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("health/", HealthView.as_view(), name="health"),
    path("api/v1/", include(api_v1)),
    # Behind login (SPECTACULAR_SETTINGS); the split view serves Swagger UI's
    # start script as a file, so the Content-Security-Policy needs no inline script.
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("accounts/", include("accounts.urls")),
    path("help/", help_page, name="help"),
    path("help/<slug:slug>/", help_page, name="help_guide"),
    path("", include("customers.urls")),
    path("", include("segmentation.urls")),
    path("", include("content.urls")),
    path("", include("governance.urls")),
    path("", include("field.urls")),
    path("", include("discovery.urls")),
    path("", include("activation.urls")),
]
