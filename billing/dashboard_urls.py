"""Dashboard URLs: the portfolio, each contract's dashboard, its simulator and exports."""

from django.urls import path

from billing import dashboard_views

app_name = "dashboard"

urlpatterns = [
    path("dashboard/", dashboard_views.dashboard_index, name="index"),
    path("dashboard/<str:code>/", dashboard_views.contract_dashboard_page, name="contract"),
    path("dashboard/<str:code>/simulator/", dashboard_views.simulator_page, name="simulator"),
    path("dashboard/<str:code>/export.csv", dashboard_views.export_csv, name="export_csv"),
    path("dashboard/<str:code>/export.xlsx", dashboard_views.export_xlsx, name="export_xlsx"),
    path("dashboard/<str:code>/indigo.json", dashboard_views.export_indigo, name="indigo"),
]
