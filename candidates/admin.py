"""Admin for candidates (CPR masked, set through a validating field, searched by keyed hash) and weekly statuses."""

from __future__ import annotations

import itertools
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from audit.models import AuditEvent
from audit.services import audit_record
from candidates import cpr as cpr_tools
from candidates.models import Candidate, WeeklyStatus, WeeklyStatusUpload
from candidates.selectors import (
    candidates_editable_by,
    candidates_for_user,
    status_uploads_for_user,
    weekly_statuses_editable_by,
    weekly_statuses_for_user,
)
from candidates.services import weekly_status_upsert, weekly_status_validate
from common import weeks
from organisations.admin import ReadOnlyAdminMixin, RoleScopedAdminMixin
from organisations.models import Membership, Role, User
from organisations.selectors import contracts_for_user, organisation_ids

OPERATOR_ROLES = (Role.CONSULTANT, Role.COORDINATOR)


def operator_staff_for_user(user: Any) -> QuerySet[User]:
    """People who may carry a caseload in the user's operator organisations."""
    return User.objects.filter(
        memberships__organisation_id__in=organisation_ids(user, [Role.COORDINATOR, Role.CONSULTANT]),
        memberships__role__in=OPERATOR_ROLES,
    ).distinct()


class HistoryAuditOnlyMixin:
    """History pages are an audit trail: they show who changed what, and never revert (changes go
    through the change form and its rules)."""

    def revert_disabled(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return True

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)  # type: ignore[misc]


def _masked_token(token: object) -> str:
    if not token:
        return "-"
    try:
        return cpr_tools.mask_cpr(cpr_tools.decrypt_cpr(str(token)))
    except ValueError:
        return "?"


# --- candidates ---------------------------------------------------------------------------------------


class CandidateAdminForm(forms.ModelForm):
    """The CPR number is written only through `cpr_number`: validated, then encrypted and hashed by `set_cpr`."""

    cpr_number = forms.CharField(
        label=_("CPR number"),
        required=False,
        max_length=11,
        help_text=_("DDMMYY-SSSS. Stored encrypted; leave empty to keep the stored number."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    class Meta:
        model = Candidate
        fields = (
            "contract",
            "ref",
            "name",
            "cpr_number",
            "referred_on",
            "consent_on",
            "enrolled_on",
            "withdrawn_on",
            "withdrawal_reason",
            "consultant",
            "notes",
        )

    def clean_cpr_number(self) -> str:
        raw = self.cleaned_data.get("cpr_number", "").strip()
        if not raw:
            if not self.instance.pk:
                raise ValidationError(_("A candidate needs a CPR number."), code="required")
            return ""
        return cpr_tools.normalise_cpr(raw)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if self.instance.pseudonymised_at and (cleaned.get("cpr_number") or cleaned.get("name")):
            # Erased for good: personal data may not come back once the retention period is over.
            raise ValidationError(
                _("This candidate is pseudonymised: a name or CPR number cannot be recorded again."),
                code="pseudonymised",
            )
        contract = cleaned.get("contract") or getattr(self.instance, "contract", None)
        number = cleaned.get("cpr_number")
        if contract is not None and number:
            others = Candidate.objects.filter(contract=contract, cpr_hash=cpr_tools.hash_cpr(number))
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            other = others.first()
            if other is not None:
                self.add_error(
                    "cpr_number",
                    ValidationError(
                        _("This CPR number is already referred to %(contract)s as candidate %(ref)s."),
                        params={"contract": contract.code, "ref": other.ref},
                        code="cpr_duplicate",
                    ),
                )
        consultant = cleaned.get("consultant")
        if contract is not None and consultant is not None:
            works_there = Membership.objects.filter(
                user=consultant, organisation_id=contract.operator_id, role__in=OPERATOR_ROLES
            ).exists()
            if not works_there:
                self.add_error(
                    "consultant",
                    ValidationError(
                        _("%(user)s does not work for %(operator)s."),
                        params={"user": consultant, "operator": contract.operator},
                        code="not_consultant",
                    ),
                )
        return cleaned

    def save(self, commit: bool = True) -> Candidate:
        number = self.cleaned_data.get("cpr_number")
        if number:
            self.instance.set_cpr(number)
        return super().save(commit=commit)


@admin.register(Candidate)
class CandidateAdmin(HistoryAuditOnlyMixin, RoleScopedAdminMixin, SimpleHistoryAdmin):
    form = CandidateAdminForm
    view_roles = (Role.CONSULTANT, Role.COORDINATOR, Role.MUNICIPALITY)
    add_roles = OPERATOR_ROLES
    # Candidates carry billing history (PROTECT); leaving the programme is a withdrawal, erasing a
    # person is pseudonymisation. Only admins delete.
    delete_roles = ()
    list_display = (
        "ref",
        "contract",
        "name",
        "cpr_display",
        "consultant",
        "referred_on",
        "enrolled_on",
        "withdrawn_on",
    )
    list_filter = (
        ("contract", admin.RelatedOnlyFieldListFilter),
        ("consultant", admin.RelatedOnlyFieldListFilter),
        ("enrolled_on", admin.EmptyFieldListFilter),
        ("withdrawn_on", admin.EmptyFieldListFilter),
    )
    search_fields = ("ref", "name", "contract__code")
    search_help_text = _("Ref, name, contract code, or a whole CPR number (DDMMYY-SSSS).")
    list_select_related = ("contract", "consultant")
    readonly_fields = ("cpr_display", "pseudonymised_at", "created_at")
    fieldsets = (
        (None, {"fields": ("contract", "ref", "name", "consultant")}),
        (_("Personal data"), {"fields": ("cpr_display", "cpr_number", "consent_on")}),
        (_("Programme"), {"fields": ("referred_on", "enrolled_on", "withdrawn_on", "withdrawal_reason", "notes")}),
        (_("Record"), {"fields": ("pseudonymised_at", "created_at")}),
    )

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return candidates_for_user(user)

    def editable_by(self, user: Any) -> QuerySet[Any]:
        return candidates_editable_by(user)

    def save_model(self, request: HttpRequest, obj: Candidate, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        fields = sorted("cpr" if name == "cpr_number" else name for name in form.changed_data)
        audit_record(
            user=request.user,
            action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
            object_type="candidate",
            object_id=obj.pk,
            candidate=obj,
            contract=obj.contract_id,
            detail={"fields": fields, "source": "admin"},
        )

    def foreign_key_scopes(self, user: Any) -> dict[str, QuerySet[Any]]:
        return {"contract": contracts_for_user(user, roles=OPERATOR_ROLES), "consultant": operator_staff_for_user(user)}

    def set_history_delta_changes(
        self, request: HttpRequest, historical_records: Any, foreign_keys_are_objs: bool = True
    ) -> None:
        """The audit trail leaves out non-editable fields (ciphertext, hash); a changed CPR shows masked."""
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        records = list(historical_records)
        for newer, older in itertools.pairwise(records):
            if newer.cpr_hash != older.cpr_hash:
                change = {
                    "field": _("CPR number"),
                    "old": _masked_token(older.cpr_encrypted),
                    "new": _masked_token(newer.cpr_encrypted),
                }
                newer.history_delta_changes = [*getattr(newer, "history_delta_changes", []), change]

    @admin.display(description=_("CPR number"))
    def cpr_display(self, obj: Candidate) -> str:
        return obj.cpr_masked or "-"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        try:
            number = cpr_tools.normalise_cpr(term)
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        # A whole CPR number is found through its keyed hash: nothing is decrypted to search.
        return queryset.filter(cpr_hash=cpr_tools.hash_cpr(number)), False


# --- weekly statuses ----------------------------------------------------------------------------------


class WeeklyStatusAdminForm(forms.ModelForm):
    """Checked under the import rules (SPEC section 4, B10) and stored through `weekly_status_upsert`."""

    class Meta:
        model = WeeklyStatus
        fields = ("candidate", "week", "outcome", "hours", "note")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        candidate = cleaned.get("candidate") or (self.instance.candidate if self.instance.pk else None)
        week = cleaned.get("week") or (self.instance.week if self.instance.pk else None)
        outcome = cleaned.get("outcome")
        if self.errors or candidate is None or week is None or outcome is None:
            return cleaned
        contract = candidate.contract
        existing = WeeklyStatus.objects.filter(candidate=candidate, week=week).first()
        if existing is not None and not self.instance.pk:
            self.add_error(
                "week",
                ValidationError(
                    _("%(ref)s already has a status for %(week)s; change that one."),
                    params={"ref": candidate.ref, "week": weeks.format_week(week)},
                    code="duplicate",
                ),
            )
            return cleaned
        hours = cleaned.get("hours")
        row = {
            "candidate": candidate.ref,
            "week": weeks.format_week(week),
            "outcome": outcome,
            "hours": "" if hours is None else str(hours),
            "note": cleaned.get("note") or "",
        }
        _planned, errors = weekly_status_validate(
            contract=contract,
            candidates={candidate.ref: candidate},
            existing={(candidate.ref, week): existing} if existing else {},
            rows=[row],
            now=timezone.now(),
        )
        for error in errors:
            field = error.field if error.field in self.fields else None
            self.add_error(field, ValidationError(error.message, code=error.code))
        return cleaned


@admin.register(WeeklyStatus)
class WeeklyStatusAdmin(HistoryAuditOnlyMixin, RoleScopedAdminMixin, SimpleHistoryAdmin):
    form = WeeklyStatusAdminForm
    view_roles = (Role.CONSULTANT, Role.COORDINATOR, Role.MUNICIPALITY)
    add_roles = OPERATOR_ROLES
    # A status is corrected, never deleted: a deletion would change what is due without a reason.
    delete_roles = ()
    admin_may_delete = False
    list_display = ("candidate", "week_label", "outcome", "hours", "note", "recorded_by", "recorded_at")
    list_filter = ("outcome", ("candidate__contract", admin.RelatedOnlyFieldListFilter), "week")
    search_fields = ("candidate__ref", "candidate__contract__code", "note")
    list_select_related = ("candidate", "candidate__contract", "recorded_by")
    date_hierarchy = "week"
    readonly_fields = ("recorded_by", "recorded_at")

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return weekly_statuses_for_user(user)

    def editable_by(self, user: Any) -> QuerySet[Any]:
        return weekly_statuses_editable_by(user)

    def foreign_key_scopes(self, user: Any) -> dict[str, QuerySet[Any]]:
        return {"candidate": candidates_editable_by(user)}

    def get_readonly_fields(self, request: HttpRequest, obj: WeeklyStatus | None = None) -> tuple[str, ...]:
        # (candidate, week) is the identity of a status: a different week is a different status.
        if obj is not None:
            return ("candidate", "week", *self.readonly_fields)
        return tuple(self.readonly_fields)

    @admin.display(description=_("week"), ordering="week")
    def week_label(self, obj: WeeklyStatus) -> str:
        return obj.week_label

    def save_model(self, request: HttpRequest, obj: WeeklyStatus, form: forms.ModelForm, change: bool) -> None:
        saved = weekly_status_upsert(
            candidate=obj.candidate,
            week=obj.week,
            outcome=obj.outcome,
            hours=obj.hours,
            note=obj.note,
            user=request.user,
        )
        obj.pk = saved.pk
        obj.recorded_by, obj.recorded_at = saved.recorded_by, saved.recorded_at


# --- uploads: written by the application only --------------------------------------------


@admin.register(WeeklyStatusUpload)
class WeeklyStatusUploadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Uploaded status files and their import progress, for the operator's staff; the file itself is not shown."""

    view_roles = OPERATOR_ROLES
    list_display = (
        "file_name",
        "contract",
        "file_format",
        "state",
        "rows_total",
        "created",
        "updated",
        "unchanged",
        "uploaded_by",
        "uploaded_at",
        "finished_at",
    )
    list_filter = ("state", "file_format", ("contract", admin.RelatedOnlyFieldListFilter))
    search_fields = ("file_name", "contract__code", "uploaded_by__username")
    list_select_related = ("contract", "uploaded_by")
    date_hierarchy = "uploaded_at"
    exclude = ("content",)

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return status_uploads_for_user(user)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [name for name in super().get_readonly_fields(request, obj) if name != "content"]
