"""Forms of the consultant workspace (caseload filters, the candidate's record, grid cells, uploads)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from candidates.models import Candidate, Outcome
from common import weeks
from common.uploads import uploaded_file_check

# Service errors carry English detail; the page shows these Danish-first texts for the codes it knows
# (the detail stays available where it names the line or the value at fault).
ERROR_TEXTS: dict[str, Any] = {
    "withdrawn": _("The candidate is withdrawn and cannot be enrolled."),
    "enrolled_before_referral": _("The enrolment date is before the referral date."),
    "withdrawn_before_referral": _("The withdrawal date is before the referral date."),
    "already_withdrawn": _("The candidate is already withdrawn."),
    "not_consultant": _("That person is not a consultant of the operator."),
    "consent_future": _("The consent date is in the future."),
    "no_cpr": _("The candidate has no CPR number on record."),
    "locked": _("The contract is settled through its last week: its statuses are locked."),
    "future_week": _("The week is in the future."),
    "before_referral": _("The week is before the candidate's referral week."),
    "unknown_outcome": _("Choose none, partial, full or education."),
    "bad_hours": _("Hours per week are a number from 0 to 168."),
    "note_too_long": _("The reason is too long (at most 500 characters)."),
    "unknown_candidate": _("Unknown candidate."),
    "not_caseload": _("The candidate is not on your caseload."),
    "bad_week": _("Bad week."),
    "duplicate": _("Duplicate line."),
    "candidate_missing": _("The candidate is missing."),
    "format": _("Unreadable line."),
    "field_count": _("Wrong number of fields."),
    "encoding": _("The file is not UTF-8 text."),
    "header": _("Missing or unreadable header."),
    "missing_column": _("Missing column."),
    "unknown_column": _("Unknown column."),
    "duplicate_column": _("Column appears twice."),
    "xlsx_unreadable": _("The file is not a readable XLSX workbook."),
    "crashed": _("The import stopped unexpectedly; nothing was stored."),
    "not_operator": _("You do not work on this contract."),
    "job_xor_education": _("Choose a job or write an education, not both."),
    "end_before_start": _("The placement ends before it starts."),
    "other_operator": _("The job belongs to another operator's employer."),
    "cvr_duplicate": _("An employer with this CVR number is registered already."),
}
REASON_TEXTS: dict[str, Any] = {
    "reason_required": _("Correcting a settled week needs a reason."),
}


def error_text(code: str | None, message: str, overrides: dict[str, Any] | None = None) -> str:
    """The Danish-first text for a service error code, or the service's own message."""
    texts = {**ERROR_TEXTS, **(overrides or {})}
    return str(texts[code]) if code in texts else message


def add_service_errors(form: forms.Form, exc: ValidationError, overrides: dict[str, Any] | None = None) -> None:
    """Show a service's ValidationError on the form: on the field it names when the form has it."""
    error_dict = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    for name, errors in error_dict.items():
        target = name if name in form.fields else None
        for error in errors:
            text = error_text(error.code, " ".join(error.messages), overrides)
            form.add_error(target, ValidationError(text, code=error.code))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


# --- caseload -----------------------------------------------------------------------------------------------


class CaseloadFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        help_text=_("Name, ref or a whole CPR number (DDMMYY-SSSS)."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    contract = forms.ChoiceField(label=_("Contract"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *list(Candidate.Status.choices)]
    )
    consultant = forms.ChoiceField(label=_("Consultant"), required=False)
    missing = forms.BooleanField(label=_("Missing this week's status"), required=False)

    def __init__(self, *args: Any, contracts: Any, consultants: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["contract"]).choices = [("", _("All contracts"))] + [
            (c.code, c.code) for c in contracts
        ]
        cast(forms.ChoiceField, self.fields["consultant"]).choices = [
            ("", _("Everyone")),
            ("none", _("No consultant")),
        ] + [(str(u.pk), u.get_full_name() or u.username) for u in consultants]


# --- the candidate's record ---------------------------------------------------------------------------------


class EnrolForm(forms.Form):
    enrolled_on = forms.DateField(label=_("Enrolled on"), widget=DateInput())


class WithdrawForm(forms.Form):
    withdrawn_on = forms.DateField(label=_("Withdrawn on"), widget=DateInput())
    reason = forms.CharField(label=_("Reason for withdrawal"), max_length=500)


class ConsentForm(forms.Form):
    consent_on = forms.DateField(label=_("Consent given on"), widget=DateInput())


class AssignConsultantForm(forms.Form):
    consultant = forms.ChoiceField(label=_("Consultant"), required=False)

    def __init__(self, *args: Any, consultants: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consultants = {str(u.pk): u for u in consultants}
        cast(forms.ChoiceField, self.fields["consultant"]).choices = [("", _("No consultant"))] + [
            (pk, u.get_full_name() or u.username) for pk, u in self.consultants.items()
        ]

    def chosen(self) -> Any:
        return self.consultants.get(self.cleaned_data["consultant"] or "")


class NotesForm(forms.Form):
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


# --- the weekly status grid --------------------------------------------------------------------------------


class GridFilterForm(forms.Form):
    contract = forms.ChoiceField(label=_("Contract"), required=False)
    consultant = forms.ChoiceField(label=_("Consultant"), required=False)
    until = forms.CharField(label=_("Up to week"), required=False, help_text=_("YYYY-Www, e.g. 2026-W05"))

    def __init__(self, *args: Any, contracts: Any, consultants: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["contract"]).choices = [("", _("All contracts"))] + [
            (c.code, c.code) for c in contracts
        ]
        cast(forms.ChoiceField, self.fields["consultant"]).choices = [
            ("", _("Everyone")),
            ("none", _("No consultant")),
        ] + [(str(u.pk), u.get_full_name() or u.username) for u in consultants]

    def clean_until(self) -> Any:
        text = (self.cleaned_data.get("until") or "").strip()
        if not text:
            return None
        try:
            return weeks.parse_week(text)
        except weeks.WeekError:
            raise ValidationError(_("Write the week as YYYY-Www, e.g. 2026-W05."), code="bad_week") from None


class StatusCellForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    note = forms.CharField(label=_("Reason for the correction"), required=False, max_length=500)


# --- uploads ------------------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    contract = forms.ChoiceField(label=_("Contract"))
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV or XLSX with the columns candidate, week, outcome and optionally hours and note."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def clean_file(self) -> Any:
        """Size, type by name and by content, XLSX structure: refused here with the file's name and the reason."""
        upload = self.cleaned_data["file"]
        content = upload.read()
        upload.seek(0)
        uploaded_file_check(name=upload.name, content=content, size=upload.size)
        return upload

    def __init__(self, *args: Any, contracts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contracts = {c.code: c for c in contracts}
        cast(forms.ChoiceField, self.fields["contract"]).choices = [
            (code, str(c)) for code, c in self.contracts.items()
        ]

    def chosen_contract(self) -> Any:
        return self.contracts[self.cleaned_data["contract"]]
