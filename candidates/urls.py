"""URLs of the consultant workspace: caseload, candidate page, weekly status grid and uploads."""

from __future__ import annotations

from datetime import date

from django.urls import path, register_converter

from candidates import views
from common import weeks


class WeekConverter:
    """`2026-W05` in a URL, the week's Monday in the view."""

    regex = r"[0-9]{4}-W[0-9]{2}"

    def to_python(self, value: str) -> date:
        return weeks.parse_week(value)  # WeekError is a ValueError: the URL does not match (404)

    def to_url(self, value: date | str) -> str:
        return value if isinstance(value, str) else weeks.format_week(value)


register_converter(WeekConverter, "week")

app_name = "candidates"

urlpatterns = [
    path("candidates/", views.caseload_view, name="caseload"),
    path("candidates/<int:pk>/", views.candidate_detail_view, name="detail"),
    path("candidates/<int:pk>/cpr/", views.candidate_cpr_view, name="cpr"),
    path("candidates/<int:pk>/enrol/", views.candidate_enrol_view, name="enrol"),
    path("candidates/<int:pk>/withdraw/", views.candidate_withdraw_view, name="withdraw"),
    path("candidates/<int:pk>/consent/", views.candidate_consent_view, name="consent"),
    path("candidates/<int:pk>/consultant/", views.candidate_assign_view, name="assign"),
    path("candidates/<int:pk>/notes/", views.candidate_notes_view, name="notes"),
    path("candidates/<int:pk>/history/", views.candidate_history_view, name="history"),
    path("status-grid/", views.status_grid_view, name="grid"),
    path("status-grid/<int:pk>/<week:week>/", views.grid_cell_view, name="grid_cell"),
    path("status-uploads/", views.upload_view, name="upload"),
    path("status-uploads/<int:pk>/", views.upload_detail_view, name="upload_detail"),
]
