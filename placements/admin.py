"""Admin for employers, jobs and placements, scoped to the user's operator."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from candidates.admin import HistoryAuditOnlyMixin
from candidates.selectors import candidates_editable_by
from organisations.admin import RoleScopedAdminMixin
from organisations.models import Organisation, Role
from organisations.selectors import organisation_ids
from placements.models import Employer, Job, Placement
from placements.selectors import (
    employers_editable_by,
    employers_for_user,
    jobs_editable_by,
    jobs_for_user,
    placements_editable_by,
    placements_for_user,
)

OPERATOR_ROLES = (Role.CONSULTANT, Role.COORDINATOR)


def operators_of(user: Any) -> QuerySet[Organisation]:
    return Organisation.objects.filter(pk__in=organisation_ids(user, OPERATOR_ROLES), kind=Organisation.Kind.OPERATOR)


class JobInline(admin.TabularInline):
    model = Job
    extra = 0
    fields = ("title", "kind", "sector", "hours_per_week", "hourly_wage")
    show_change_link = True

    def _employer_admin(self) -> Any:
        return self.admin_site._registry[Employer]

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return self._employer_admin().has_view_permission(request, obj)

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return self._employer_admin().has_change_permission(request, obj)

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return self._employer_admin().has_change_permission(request, obj)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return self._employer_admin().has_delete_permission(request, obj)


@admin.register(Employer)
class EmployerAdmin(RoleScopedAdminMixin, admin.ModelAdmin):
    view_roles = OPERATOR_ROLES
    add_roles = OPERATOR_ROLES
    delete_roles = (Role.COORDINATOR,)
    inlines = (JobInline,)
    list_display = ("name", "operator", "cvr", "sector", "own_enterprise")
    list_filter = ("own_enterprise", ("operator", admin.RelatedOnlyFieldListFilter), "sector")
    search_fields = ("name", "cvr", "sector")
    list_select_related = ("operator",)

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return employers_for_user(user)

    def editable_by(self, user: Any) -> QuerySet[Any]:
        return employers_editable_by(user)

    def foreign_key_scopes(self, user: Any) -> dict[str, QuerySet[Any]]:
        return {"operator": operators_of(user)}

    def formfield_for_foreignkey(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name == "operator" and "queryset" not in kwargs:
            kwargs["queryset"] = Organisation.objects.filter(kind=Organisation.Kind.OPERATOR)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Job)
class JobAdmin(RoleScopedAdminMixin, admin.ModelAdmin):
    view_roles = OPERATOR_ROLES
    add_roles = OPERATOR_ROLES
    delete_roles = (Role.COORDINATOR,)
    list_display = ("title", "employer", "kind", "sector", "hours_per_week", "hourly_wage")
    list_filter = ("kind", ("employer__operator", admin.RelatedOnlyFieldListFilter), "sector")
    search_fields = ("title", "employer__name", "sector")
    list_select_related = ("employer",)

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return jobs_for_user(user)

    def editable_by(self, user: Any) -> QuerySet[Any]:
        return jobs_editable_by(user)

    def foreign_key_scopes(self, user: Any) -> dict[str, QuerySet[Any]]:
        return {"employer": employers_editable_by(user)}


class PlacementAdminForm(forms.ModelForm):
    class Meta:
        model = Placement
        fields = ("candidate", "job", "education", "start", "end", "hours_per_week")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        candidate, job = cleaned.get("candidate"), cleaned.get("job")
        if candidate is not None and job is not None and candidate.contract.operator_id != job.employer.operator_id:
            self.add_error(
                "job",
                ValidationError(
                    _("%(job)s is at an employer of another operator than %(operator)s."),
                    params={"job": job, "operator": candidate.contract.operator},
                    code="other_operator",
                ),
            )
        return cleaned


@admin.register(Placement)
class PlacementAdmin(HistoryAuditOnlyMixin, RoleScopedAdminMixin, SimpleHistoryAdmin):
    form = PlacementAdminForm
    view_roles = (Role.CONSULTANT, Role.COORDINATOR, Role.MUNICIPALITY)
    add_roles = OPERATOR_ROLES
    delete_roles = (Role.COORDINATOR,)
    list_display = ("candidate", "kind_label", "job", "education", "start", "end", "hours_per_week")
    list_filter = (
        ("candidate__contract", admin.RelatedOnlyFieldListFilter),
        "job__kind",
        ("end", admin.EmptyFieldListFilter),
    )
    search_fields = ("candidate__ref", "candidate__contract__code", "job__title", "job__employer__name", "education")
    list_select_related = ("candidate", "candidate__contract", "job", "job__employer")
    date_hierarchy = "start"

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return placements_for_user(user)

    def editable_by(self, user: Any) -> QuerySet[Any]:
        return placements_editable_by(user)

    def foreign_key_scopes(self, user: Any) -> dict[str, QuerySet[Any]]:
        return {"candidate": candidates_editable_by(user), "job": jobs_for_user(user)}

    @admin.display(description=_("kind"))
    def kind_label(self, obj: Placement) -> str:
        return str(_("Job")) if obj.job_id else str(_("Education"))
