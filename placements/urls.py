"""URLs for employers, jobs, the job search and a candidate's placements."""

from django.urls import path

from placements import views

app_name = "placements"

urlpatterns = [
    path("employers/", views.employers_view, name="employers"),
    path("employers/<int:pk>/", views.employer_detail_view, name="employer"),
    path("jobs/search/", views.job_search_view, name="job_search"),
    path("candidates/<int:pk>/placements/", views.placement_create_view, name="create"),
    path("placements/<int:pk>/end/", views.placement_end_view, name="end"),
]
