"""Admin for parties, users and contracts, and the role-scoped admin mixins every app's admin builds on.

Access in the admin follows the roles of SPEC section 5 through the same `..._for_user` selectors the
pages and the API use, not Django's per-model permissions: one rule, so no hole opens on a side path.
Superusers are admins and see everything; a staff user without superuser status (a coordinator, say)
sees and changes only what their memberships allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from organisations.models import (
    BenefitRate,
    Contract,
    ContractInvestor,
    Membership,
    Organisation,
    RateCardVersion,
    User,
)
from organisations.selectors import contracts_for_user, has_role, is_admin, organisations_for_user


class RoleScopedAdminMixin:
    """Scopes a ModelAdmin to the user's roles.

    Subclasses name the selector of what a user may see (`visible_to`) and may change (`editable_by`),
    and which roles may add (`add_roles`) or delete (`delete_roles`, within what they may change).
    `foreign_key_scopes` limits the choices of foreign keys in forms to what the user may use.
    """

    view_roles: Iterable[str] = ()
    add_roles: Iterable[str] = ()
    delete_roles: Iterable[str] = ()
    # Admins may delete unless a model forbids it for everyone (append-only billing records).
    admin_may_delete = True
    admin_may_change = True
    admin_may_add = True

    model: type[Model]

    def visible_to(self, user: Any) -> QuerySet[Any]:
        raise NotImplementedError

    def editable_by(self, user: Any) -> QuerySet[Any]:
        return self.model._default_manager.none()

    def foreign_key_scopes(self, user: Any) -> dict[str, QuerySet[Any]]:
        return {}

    # --- querysets -------------------------------------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if is_admin(request.user):
            return queryset
        return queryset.filter(pk__in=self.visible_to(request.user).values("pk"))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not is_admin(request.user):
            scopes = self.foreign_key_scopes(request.user)
            if db_field.name in scopes:
                kwargs["queryset"] = scopes[db_field.name]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    # --- permissions -----------------------------------------------------------------------------
    def _may_edit(self, request: HttpRequest, obj: Model | None) -> bool:
        if obj is None:
            return self.editable_by(request.user).exists()
        return self.editable_by(request.user).filter(pk=obj.pk).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        user = request.user
        if is_admin(user):
            return True
        if obj is None:
            return has_role(user, *self.view_roles)
        return self.visible_to(user).filter(pk=obj.pk).exists()

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if is_admin(request.user):
            return self.admin_may_change
        return self._may_edit(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        if is_admin(request.user):
            return self.admin_may_add
        return has_role(request.user, *self.add_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if is_admin(request.user):
            return self.admin_may_delete
        return has_role(request.user, *self.delete_roles) and self._may_edit(request, obj)


class AdminOnlyChangesMixin(RoleScopedAdminMixin):
    """Visible within the user's scope, changed only by admins (contract terms, the party register)."""

    def editable_by(self, user: Any) -> QuerySet[Any]:
        return self.model._default_manager.none()


class ReadOnlyAdminMixin(RoleScopedAdminMixin):
    """Append-only records (B10): nobody adds, changes or deletes them in the admin, admins included."""

    admin_may_add = False
    admin_may_change = False
    admin_may_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        actions.pop("delete_selected", None)
        return actions


class ScopedInlineMixin:
    """An inline that follows its parent: visible with the parent, changed only where the parent may be."""

    parent_admin_may_change: bool = True

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if is_admin(request.user):
            return True
        parent = self.admin_site._registry[self.parent_model]  # type: ignore[attr-defined]
        return parent.has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if not self.parent_admin_may_change:
            return False
        parent = self.admin_site._registry[self.parent_model]  # type: ignore[attr-defined]
        return parent.has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_change_permission(request, obj)


class AdminOnlyMixin(RoleScopedAdminMixin):
    """Only admins see these at all (users and their memberships)."""

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return self.model._default_manager.none()


# --- registrations ----------------------------------------------------------------------------------

ANY_ROLE = ("consultant", "coordinator", "municipality", "investor")

# Groups hand out Django model permissions, which this admin does not use (see above): offering them
# would suggest a second way to grant access that does nothing.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Organisation)
class OrganisationAdmin(AdminOnlyChangesMixin, admin.ModelAdmin):
    view_roles = ANY_ROLE
    list_display = ("name", "kind", "cvr", "ean", "city")
    list_filter = ("kind",)
    search_fields = ("name", "cvr", "ean", "city")
    ordering = ("name",)

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return organisations_for_user(user)


class MembershipInline(ScopedInlineMixin, admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("organisation",)


@admin.register(User)
class UserAdmin(AdminOnlyMixin, DjangoUserAdmin):
    inlines = (MembershipInline,)
    list_display = ("username", "first_name", "last_name", "email", "is_staff", "is_superuser", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "memberships__role")
    search_fields = ("username", "first_name", "last_name", "email", "memberships__organisation__name")


@admin.register(Membership)
class MembershipAdmin(AdminOnlyMixin, admin.ModelAdmin):
    list_display = ("user", "role", "organisation")
    list_filter = ("role", "organisation__kind")
    search_fields = ("user__username", "user__first_name", "user__last_name", "organisation__name")
    list_select_related = ("user", "organisation")
    autocomplete_fields = ("user", "organisation")


class RateCardVersionInline(ScopedInlineMixin, admin.TabularInline):
    model = RateCardVersion
    extra = 0
    parent_admin_may_change = True


class ContractInvestorInline(ScopedInlineMixin, admin.TabularInline):
    model = ContractInvestor
    extra = 0
    autocomplete_fields = ("organisation",)


@admin.register(Contract)
class ContractAdmin(AdminOnlyChangesMixin, admin.ModelAdmin):
    view_roles = ANY_ROLE
    inlines = (RateCardVersionInline, ContractInvestorInline)
    list_display = (
        "code",
        "name",
        "municipality",
        "operator",
        "payee",
        "first_week_label",
        "last_week_label",
        "settled_through",
    )
    list_filter = (("municipality", admin.RelatedOnlyFieldListFilter), ("operator", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name", "municipality__name", "operator__name")
    list_select_related = ("municipality", "operator", "payee")
    autocomplete_fields = ("municipality", "operator", "payee")
    readonly_fields = ("settled_through", "recompute_from", "created_at")

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return contracts_for_user(user)

    @admin.display(description=_("first week"), ordering="first_week")
    def first_week_label(self, obj: Contract) -> str:
        return obj.first_week_label

    @admin.display(description=_("last week"), ordering="last_week")
    def last_week_label(self, obj: Contract) -> str:
        return obj.last_week_label


# --- kontanthjælp rates for the dashboard's business case: national figures, admins edit them ------------


@admin.register(BenefitRate)
class BenefitRateAdmin(AdminOnlyChangesMixin, admin.ModelAdmin):
    view_roles = ANY_ROLE
    list_display = ("year", "without_children", "with_children", "is_estimate", "source")
    list_editable = ("without_children", "with_children", "is_estimate")
    list_filter = ("is_estimate",)
    search_fields = ("year", "source")
    ordering = ("year",)

    def visible_to(self, user: Any) -> QuerySet[Any]:
        return BenefitRate.objects.all()
