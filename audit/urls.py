"""URLs of the audit log: the search page and its CSV export (coordinators and admins)."""

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("audit/", views.audit_search_view, name="search"),
    path("audit/export.csv", views.audit_export_view, name="export"),
]
