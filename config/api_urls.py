"""The REST API under /api/: OpenAPI 3 schema, interactive docs (served by the app, no CDN), token login, resources."""

from csp.constants import NONCE
from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts.api import TokenLoginView
from billing import api

app_name = "api"

# What Redoc needs beyond the site's policy, on its page alone: its styled-components insert <style>
# elements (they carry the response's nonce, handed over in static/js/api_redoc.js); two fixed ones come
# before the nonce reaches it (allowed by hash, for the bundled Redoc version: the browser test catches a
# change); its search runs in a worker made from a blob. Its footer logo from a CDN stays refused.
REDOC_POLICY = {
    "style-src": [
        NONCE,
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    ],
    "worker-src": ["'self'", "blob:"],
}

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start script as a file (?script), so the page needs no inline script.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="billing/api_swagger.html"),
        name="docs",
    ),
    path(
        "redoc/",
        csp_update(REDOC_POLICY)(
            SpectacularRedocView.as_view(url_name="api:schema", template_name="billing/api_redoc.html")
        ),
        name="redoc",
    ),
    path("auth/token/", TokenLoginView.as_view(), name="token"),
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
