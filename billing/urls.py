"""Billing URLs: the coordinator's billing page and the municipality portal."""

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("contracts/<str:code>/billing/", views.contract_billing, name="contract_billing"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/bundle/", views.invoice_bundle, name="invoice_bundle"),
    path("invoices/<str:number>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<str:number>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<str:number>/xml/", views.invoice_xml, name="invoice_xml"),
    path("invoices/<str:number>/csv/", views.invoice_csv, name="invoice_csv"),
    path("invoices/<str:number>/xlsx/", views.invoice_xlsx, name="invoice_xlsx"),
    path("invoices/<str:number>/payments/", views.invoice_pay, name="invoice_pay"),
    path("invoices/<str:number>/lines/<int:line_id>/dispute/", views.line_dispute, name="line_dispute"),
    path("disputes/", views.dispute_list, name="dispute_list"),
    path("disputes/<int:pk>/resolve/", views.dispute_resolve, name="dispute_resolve"),
    path("referrals/", views.referral_page, name="referrals"),
    path("referrals/lottery/", views.referral_lottery, name="referral_lottery"),
    path("referrals/lotteries/<int:pk>/", views.referral_lottery_detail, name="referral_lottery_detail"),
]
