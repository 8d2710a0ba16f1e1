"""Billing URLs."""

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("contracts/<str:code>/billing/", views.contract_billing, name="contract_billing"),
]
