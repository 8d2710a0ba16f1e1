"""The audit log search form."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent


class DateInput(forms.DateInput):
    input_type = "date"


class AuditSearchForm(forms.Form):
    candidate = forms.CharField(label=_("Candidate ref"), required=False, max_length=40)
    person = forms.CharField(label=_("User"), required=False, max_length=150, help_text=_("User name or name."))
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("All")), *AuditEvent.Action.choices])
    contract = forms.ChoiceField(label=_("Contract"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args: Any, contracts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["contract"]).choices = [("", _("All contracts"))] + [
            (code, code) for code in contracts
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
