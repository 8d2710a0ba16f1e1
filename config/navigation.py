"""The main navigation: one list of (label, URL name, roles); each app adds its pages here.

A context processor shows each user only the entries of their roles (admins see all), so a link to a
page a role may not open is never offered.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from organisations.models import Role
from organisations.selectors import is_admin, roles_of


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    roles: frozenset[str]


OPERATOR = frozenset({Role.CONSULTANT, Role.COORDINATOR})
NAV: list[NavItem] = [
    NavItem(_("Overview"), "home", frozenset(Role.values)),
    NavItem(_("Candidates"), "candidates:caseload", OPERATOR),
    NavItem(_("Weekly status"), "candidates:grid", OPERATOR),
    NavItem(_("Upload"), "candidates:upload", OPERATOR),
    NavItem(_("Employers"), "placements:employers", OPERATOR),
]
# The municipality portal (billing): invoices and disputes for the paying municipality and the coordinator,
# referrals for the municipality.
NAV += [
    NavItem(_("Invoices"), "billing:invoice_list", frozenset({Role.MUNICIPALITY, Role.COORDINATOR})),
    NavItem(_("Disputes"), "billing:dispute_list", frozenset({Role.MUNICIPALITY, Role.COORDINATOR})),
    NavItem(_("Referrals"), "billing:referrals", frozenset({Role.MUNICIPALITY})),
]

# The dashboard (billing analytics): investors see aggregates only; municipality and coordinator their contracts.
NAV += [
    NavItem(_("Dashboard"), "dashboard:index", frozenset({Role.INVESTOR, Role.MUNICIPALITY, Role.COORDINATOR})),
]

# The personal data audit log: coordinators search their contracts' events; admins everything.
NAV += [NavItem(_("Audit log"), "audit:search", frozenset({Role.COORDINATOR}))]


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    roles = roles_of(user)
    items = []
    for item in NAV:
        if not (is_admin(user) or roles & item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append(
            {
                "label": item.label,
                "url": url,
                "active": (request.path.startswith(url) and url != "/") or request.path == url,
            }
        )
    return {"nav_items": items}
