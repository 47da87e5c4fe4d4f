from django.urls import path

from . import views

app_name = "activation"

urlpatterns = [
    path(
        "segments/<str:key>/publications-panel/",
        views.publications_panel,
        name="publications_panel",
    ),
    path("segments/<str:key>/publish/", views.publish, name="publish"),
    path("segments/<str:key>/holdout-power/", views.holdout_power, name="holdout_power"),
    path(
        "publications/<int:pk>/<str:action>/",
        views.publication_action,
        name="publication_action",
    ),
    path(
        "content/<str:code>/withdrawal-preview/",
        views.withdrawal_preview,
        name="withdrawal_preview",
    ),
    path("destinations/", views.destination_list, name="destination_list"),
    path("deliveries/", views.delivery_log, name="delivery_log"),
]
