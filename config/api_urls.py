"""The REST API under /api/: OpenAPI 3 schema, interactive docs (served by the app, no CDN), token login, resources."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from billing import api

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", template_name="billing/api_redoc.html"),
        name="redoc",
    ),
    path("auth/token/", obtain_auth_token, name="token"),
    path("contracts/", api.ContractListView.as_view(), name="contracts"),
    path("contracts/<str:code>/", api.ContractDetailView.as_view(), name="contract"),
    path("invoices/", api.InvoiceListView.as_view(), name="invoices"),
    path("invoices/<str:number>/", api.InvoiceDetailView.as_view(), name="invoice"),
    path("invoices/<str:number>/status/", api.InvoiceStatusView.as_view(), name="invoice_status"),
    path("invoices/<str:number>/pdf/", api.InvoicePdfView.as_view(), name="invoice_pdf"),
    path("invoices/<str:number>/xml/", api.InvoiceXmlView.as_view(), name="invoice_xml"),
    path("invoices/<str:number>/csv/", api.InvoiceCsvView.as_view(), name="invoice_csv"),
    path("invoices/<str:number>/xlsx/", api.InvoiceXlsxView.as_view(), name="invoice_xlsx"),
    path("invoices/<str:number>/payments/", api.InvoicePaymentCreateView.as_view(), name="invoice_payment"),
    path(
        "invoices/<str:number>/lines/<int:line_id>/disputes/",
        api.LineDisputeCreateView.as_view(),
        name="line_dispute",
    ),
    path("payments/", api.PaymentListView.as_view(), name="payments"),
    path("disputes/", api.DisputeListView.as_view(), name="disputes"),
    path("disputes/<int:pk>/resolve/", api.DisputeResolveView.as_view(), name="dispute_resolve"),
    path("weekly-statuses/", api.WeeklyStatusListView.as_view(), name="weekly_statuses"),
    path("weekly-statuses/bulk/", api.WeeklyStatusBulkUpsertView.as_view(), name="weekly_status_bulk"),
    path("candidates/", api.CandidateListView.as_view(), name="candidates"),
    path("candidates/<int:pk>/", api.CandidateDetailView.as_view(), name="candidate"),
    path("referrals/", api.ReferralCreateView.as_view(), name="referrals"),
    path("ledger/entries/", api.JournalEntryListView.as_view(), name="ledger_entries"),
    path("ledger/balances/", api.LedgerBalanceListView.as_view(), name="ledger_balances"),
]
