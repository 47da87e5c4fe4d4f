from django.urls import path

from . import views

app_name = "governance"

urlpatterns = [
    path("audit/", views.audit_list, name="audit_list"),
    path("dashboard/inbox/", views.dashboard_inbox, name="inbox"),
    path("inbox/", views.inbox_page, name="inbox_page"),
    path("segments/<str:key>/submit/", views.segment_submit, name="segment_submit"),
    path("segments/<str:key>/activate/", views.segment_activate, name="segment_activate"),
    path("segments/<str:key>/retire/", views.segment_retire, name="segment_retire"),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/<str:key>/v<int:number>/", views.review_detail, name="review_detail"),
    path("reviews/<str:key>/v<int:number>/overlap/", views.review_overlap, name="review_overlap"),
    path("reviews/<str:key>/v<int:number>/impact/", views.review_impact, name="review_impact"),
]
