"""Forms of the municipality portal: parse and check input; the services hold the rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Dispute
from billing.portal_selectors import DocumentStatus
from candidates.models import Outcome
from common import weeks


class WeekField(forms.CharField):
    """`2020-W05` (what <input type="week"> sends) -> the Monday of that week."""

    # A text box rather than <input type="week">: browsers render that widget in their own language.
    widget = forms.TextInput(attrs={"placeholder": "2020-W01", "pattern": r"\d{4}-?[Ww]\d{1,2}", "size": 9})

    def to_python(self, value: Any) -> date | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return weeks.parse_week(text)
        except weeks.WeekError:
            raise ValidationError(
                _("'%(value)s' is not a week; write it as YYYY-Www, e.g. 2020-W05."),
                code="bad_week",
                params={"value": text},
            ) from None


class InvoiceFilterForm(forms.Form):
    contract = forms.ChoiceField(label=_("Contract"), required=False)
    week_from = WeekField(label=_("From week"), required=False)
    week_to = WeekField(label=_("To week"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *DocumentStatus.choices])

    def __init__(self, *args: Any, contracts: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["contract"]).choices = [("", _("All contracts")), *contracts]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("week_from"), data.get("week_to")
        if start and end and end < start:
            self.add_error("week_to", _("The period ends before it starts."))
        return data


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount paid"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"), localize=True
    )
    paid_on = forms.DateField(label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def clean_paid_on(self) -> date:
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise ValidationError(_("The payment date is in the future."), code="future")
        return paid_on


class DisputeForm(forms.Form):
    claimed_outcome = forms.ChoiceField(label=_("Correct outcome"), choices=Outcome.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What is wrong with the line; it becomes the note of the corrected weekly status."),
    )

    def __init__(self, *args: Any, billed_outcome: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if billed_outcome:
            field = cast(forms.ChoiceField, self.fields["claimed_outcome"])
            field.choices = [c for c in Outcome.choices if c[0] != billed_outcome]


class DisputeResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(Dispute.Status.ACCEPTED, _("Accept: correct the status")), (Dispute.Status.REJECTED, _("Reject"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note to the municipality"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == Dispute.Status.REJECTED and not (data.get("note") or "").strip():
            self.add_error("note", _("A rejection needs a reason for the municipality."))
        return data


class ReferralForm(forms.Form):
    cpr = forms.CharField(
        label=_("CPR number"),
        max_length=11,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "DDMMÅÅ-SSSS"}),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    referred_on = forms.DateField(
        label=_("Referral date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ref = forms.CharField(
        label=_("Ref (optional)"),
        max_length=40,
        required=False,
        help_text=_("Leave empty to use the next free ref (C001, C002, ...)."),
    )


class LotteryForm(forms.Form):
    eligible = forms.CharField(
        label=_("Eligible people"),
        widget=forms.Textarea(attrs={"rows": 8, "autocomplete": "off", "placeholder": "010190-1234; Anna Hansen"}),
        help_text=_("One person per line: CPR number and name separated by ';'."),
    )
    referred_count = forms.IntegerField(label=_("Number to refer"), min_value=1)
    referral_date = forms.DateField(
        label=_("Referral date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    seed = forms.CharField(
        label=_("Seed (optional)"),
        max_length=100,
        required=False,
        help_text=_(
            "E.g. a publicly drawn number agreed beforehand; left empty, a random seed is chosen and recorded."
        ),
    )
