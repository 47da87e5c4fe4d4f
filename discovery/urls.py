from django.urls import path

from . import views

app_name = "discovery"

urlpatterns = [
    path("discovery/", views.discovery_home, name="home"),
    path("discovery/describe/", views.describe_page, name="describe"),
    path("discovery/personas/", views.personas_page, name="personas"),
    path("discovery/tasks/<str:task_id>/", views.task_partial, name="task"),
    path(
        "discovery/differentiators/<str:key>/",
        views.differentiators_partial,
        name="differentiators",
    ),
]
