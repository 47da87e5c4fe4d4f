from django.urls import path

from .jobs_api import TaskView

urlpatterns = [
    path("tasks/<str:task_id>/", TaskView.as_view(), name="api-task"),
]
