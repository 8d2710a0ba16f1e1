"""Forms for employers, jobs and placements in the consultant workspace."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from candidates.forms import DateInput
from common.validators import validate_cvr
from placements.models import Job

# Localised: a Danish user types 12,5. A text input, because a number input refuses the decimal comma.
DECIMAL_INPUT: dict[str, Any] = {
    "localize": True,
    "widget": forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
}
HOURS: dict[str, Any] = {"max_digits": 5, "decimal_places": 2, "min_value": 0, "max_value": 168, **DECIMAL_INPUT}


class EmployerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    cvr = forms.CharField(
        label=_("CVR number"),
        max_length=8,
        required=False,
        validators=[validate_cvr],
        help_text=_("8 digits, not starting with 0."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[1-9][0-9]{7}"}),
    )
    sector = forms.CharField(label=_("Sector"), max_length=100, required=False)
    own_enterprise = forms.BooleanField(label=_("The operator's own enterprise"), required=False)
    operator = forms.ChoiceField(label=_("Operator"))

    def __init__(self, *args: Any, operators: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.operators = {str(o.pk): o for o in operators}
        cast(forms.ChoiceField, self.fields["operator"]).choices = [(pk, o.name) for pk, o in self.operators.items()]
        if len(self.operators) == 1:  # the usual case: nothing to choose
            self.fields["operator"].initial = next(iter(self.operators))
            self.fields["operator"].required = False
            self.fields["operator"].widget = forms.HiddenInput()

    def chosen_operator(self) -> Any:
        return self.operators[self.cleaned_data["operator"] or next(iter(self.operators))]


class JobForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Job.Kind.choices, initial=Job.Kind.SMALL_JOB)
    hours_per_week = forms.DecimalField(label=_("Hours per week"), required=False, **HOURS)
    hourly_wage = forms.DecimalField(
        label=_("Hourly wage (DKK)"), required=False, max_digits=8, decimal_places=2, min_value=0, **DECIMAL_INPUT
    )
    sector = forms.CharField(
        label=_("Sector"), max_length=100, required=False, help_text=_("Leave empty to use the employer's.")
    )


class PlacementForm(forms.Form):
    class Kind:
        JOB = "job"
        EDUCATION = "education"

    kind = forms.ChoiceField(
        label=_("Placement in"),
        choices=[(Kind.JOB, _("Job")), (Kind.EDUCATION, _("Education"))],
        initial=Kind.JOB,
        widget=forms.RadioSelect,
    )
    job = forms.ModelChoiceField(label=_("Job"), queryset=Job.objects.none(), required=False, widget=forms.HiddenInput)
    job_search = forms.CharField(
        label=_("Job"),
        required=False,
        help_text=_("Type to search title, employer or sector; arrow keys and Enter pick."),
    )
    education = forms.CharField(label=_("Education"), max_length=200, required=False)
    start = forms.DateField(label=_("Start"), widget=DateInput())
    end = forms.DateField(label=_("End"), required=False, widget=DateInput())
    hours_per_week = forms.DecimalField(
        label=_("Hours per week"), required=False, help_text=_("Empty: the job's hours."), **HOURS
    )

    def __init__(self, *args: Any, jobs: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "placement_%s")  # the candidate page has other forms with an `end` field
        super().__init__(*args, **kwargs)
        if jobs is not None:
            cast(forms.ModelChoiceField, self.fields["job"]).queryset = jobs

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == self.Kind.JOB:
            data["education"] = ""
            if not data.get("job") and "job" not in self.errors:
                self.add_error("job_search", _("Choose a job from the list."))
        elif data.get("kind") == self.Kind.EDUCATION:
            data["job"] = None
            if not data.get("education"):
                self.add_error("education", _("Write the name of the education."))
        return data


class PlacementEndForm(forms.Form):
    end = forms.DateField(label=_("Ends on"), widget=DateInput())
