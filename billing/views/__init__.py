"""Billing pages: the coordinator's billing page and the municipality portal (invoices, disputes, referrals)."""

from billing.views.coordinator import contract_billing
from billing.views.disputes import dispute_list, dispute_resolve
from billing.views.invoices import (
    invoice_bundle,
    invoice_csv,
    invoice_detail,
    invoice_list,
    invoice_pay,
    invoice_pdf,
    invoice_xlsx,
    invoice_xml,
    line_dispute,
)
from billing.views.referrals import referral_lottery, referral_lottery_detail, referral_page

__all__ = [
    "contract_billing",
    "dispute_list",
    "dispute_resolve",
    "invoice_bundle",
    "invoice_csv",
    "invoice_detail",
    "invoice_list",
    "invoice_pay",
    "invoice_pdf",
    "invoice_xlsx",
    "invoice_xml",
    "line_dispute",
    "referral_lottery",
    "referral_lottery_detail",
    "referral_page",
]
