"""The access matrix's one table: for every route, who gets through on their own contract's objects (SPEC 5).

How to read an entry: `EXPECT["candidates:detail"] = page(GET=OPERATOR_STAFF, obj=candidate)` says the page
is a GET, names a candidate (`obj` builds the URL kwargs from one contract's side of the world), and lets
consultants and coordinators through on a candidate of their own contract. Every other role is refused on
it (403/404), anonymous is sent to log in, admin gets through, and nobody but admin gets through on the
*other* contract's candidate. Exceptions are explicit arguments (`anonymous=OK`, `other_ok=...`, `admin=...`).

The admin's routes are generated from ADMIN_MODELS (one row per registered model), since every model
admin has the same six pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from organisations.models import Role
from tests.security.routes import DENIED, LOGIN, OK
from tests.security.world import Side

CONSULTANT, COORDINATOR, MUNICIPALITY, INVESTOR = Role.CONSULTANT, Role.COORDINATOR, Role.MUNICIPALITY, Role.INVESTOR
NOBODY: frozenset[str] = frozenset()
OPERATOR_STAFF = frozenset({CONSULTANT, COORDINATOR})
COORDINATOR_ONLY = frozenset({COORDINATOR})
MUNICIPALITY_ONLY = frozenset({MUNICIPALITY})
DOCUMENT_ROLES = frozenset({COORDINATOR, MUNICIPALITY})  # invoices, settlements, disputes
CANDIDATE_ROLES = frozenset({CONSULTANT, COORDINATOR, MUNICIPALITY})
DASHBOARD_ROLES = frozenset({COORDINATOR, MUNICIPALITY, INVESTOR})
EVERYONE = frozenset({CONSULTANT, COORDINATOR, MUNICIPALITY, INVESTOR})  # every logged-in role
STAFF_KINDS = frozenset({COORDINATOR})  # the world's coordinator is staff (as in the demo); admin too

Build = Callable[[Side], Any]


@dataclass(frozen=True)
class Expect:
    """What one route answers. `methods`: HTTP method -> roles (kinds) that get through on their own side."""

    methods: dict[str, frozenset[str]]
    obj: Build | None = None  # URL kwargs naming one side's object; None: the URL names no object
    args: Build | None = None  # positional URL arguments (regex routes)
    query: Build | None = None  # query string naming one side's object (?contract=CODE)
    data: Build | None = None  # request body for writes that validate before they check access
    json: bool = False  # send `data` as JSON (the API)
    anonymous: str = LOGIN
    admin: dict[str, str] = field(default_factory=dict)  # method -> admin's answer, if not OK
    other_ok: frozenset[str] = NOBODY  # roles that also get through on the other contract's object
    staff_only: bool = False  # the admin: roles without staff status are sent to the admin's login
    answers: dict[str, str] = field(default_factory=dict)  # role -> its answer everywhere, if not the rule
    why: str = ""  # why the entry departs from the defaults
    # A consultant's colleague's object in their own contract (not on their caseload): the builder, and
    # the methods on which the consultant still gets through (they see the contract, change their caseload).
    colleague: Build | None = None
    colleague_methods: frozenset[str] = frozenset()

    @property
    def sided(self) -> bool:
        return self.obj is not None or self.args is not None or self.query is not None


def page(**methods_and_options: Any) -> Expect:
    methods = {m: roles for m, roles in methods_and_options.items() if m.isupper()}
    options = {k: v for k, v in methods_and_options.items() if not k.isupper()}
    return Expect(methods=methods, **options)


def expected(expect: Expect, *, method: str, kind: str, own_side: bool, colleague: bool = False) -> str:
    """The class of answer `kind` must get; `own_side` is False only for the other contract's object."""
    if colleague:
        return OK if method in expect.colleague_methods else DENIED
    if kind == "anonymous":
        return expect.anonymous
    if kind == "admin":
        return expect.admin.get(method, OK)
    if kind in expect.answers:
        return expect.answers[kind]
    if expect.staff_only and kind not in STAFF_KINDS:
        return LOGIN
    if not own_side:
        return OK if kind in expect.other_ok else DENIED
    return OK if kind in expect.methods[method] else DENIED


# --- builders of URL kwargs from one side of the world ---------------------------------------------------


def code(s: Side) -> dict[str, Any]:
    return {"code": s.code}


def number(s: Side) -> dict[str, Any]:
    return {"number": s.document.number}


def candidate(s: Side) -> dict[str, Any]:
    return {"pk": s.candidate.pk}


def second_candidate(s: Side) -> dict[str, Any]:
    return {"pk": s.second_candidate.pk}


READ = frozenset({"GET"})
READ_AND_REVEAL = frozenset({"GET", "POST"})  # the CPR page: POST reveals the number, a read (logged)


def contract_query(s: Side) -> dict[str, Any]:
    return {"contract": s.code}


def status_rows(s: Side) -> dict[str, Any]:
    return {"contract": s.code, "rows": [{"candidate": s.candidate.ref, "week": "2020-W03", "outcome": "full"}]}


def referral(s: Side) -> dict[str, Any]:
    return {"contract": s.code, "cpr": "150690-1234", "name": "Ny Henvisningsen", "referred_on": "2020-04-01"}


# --- the table -------------------------------------------------------------------------------------------

EXPECT: dict[str, Expect] = {
    # site
    "home": page(GET=EVERYONE),
    "healthz": page(GET=EVERYONE, anonymous=OK, why="docker compose health check: no data"),
    "login": page(GET=EVERYONE, POST=EVERYONE, anonymous=OK, why="the login form (a logged-in user is sent on)"),
    "logout": page(
        POST=NOBODY,
        admin={"POST": LOGIN},
        answers=dict.fromkeys(EVERYONE, LOGIN),
        why="logging out sends everyone to the login page",
    ),
    # billing: the coordinator's billing page and the municipality portal
    "billing:contract_billing": page(GET=COORDINATOR_ONLY, obj=code),
    "billing:invoice_list": page(GET=EVERYONE, why="a list of the caller's own documents (empty for most roles)"),
    "billing:invoice_bundle": page(
        GET=EVERYONE, why="a zip of the caller's own documents; with none, a redirect back to the list"
    ),
    "billing:invoice_detail": page(GET=DOCUMENT_ROLES, obj=number),
    "billing:invoice_pdf": page(GET=DOCUMENT_ROLES, obj=number),
    "billing:invoice_xml": page(GET=DOCUMENT_ROLES, obj=number),
    "billing:invoice_csv": page(GET=DOCUMENT_ROLES, obj=number),
    "billing:invoice_xlsx": page(GET=DOCUMENT_ROLES, obj=number),
    "billing:invoice_pay": page(POST=DOCUMENT_ROLES, obj=number),
    "billing:line_dispute": page(
        POST=MUNICIPALITY_ONLY, obj=lambda s: {"number": s.document.number, "line_id": s.line.pk}
    ),
    "billing:dispute_list": page(GET=EVERYONE, why="a list of the caller's own disputes (empty for most roles)"),
    "billing:dispute_resolve": page(POST=COORDINATOR_ONLY, obj=lambda s: {"pk": s.dispute.pk}),
    "billing:referrals": page(GET=MUNICIPALITY_ONLY, POST=MUNICIPALITY_ONLY, query=contract_query),
    "billing:referral_lottery": page(GET=MUNICIPALITY_ONLY, POST=MUNICIPALITY_ONLY, query=contract_query),
    "billing:referral_lottery_detail": page(
        GET=frozenset({CONSULTANT, COORDINATOR, MUNICIPALITY}), obj=lambda s: {"pk": s.lottery.pk}
    ),
    # dashboards
    "dashboard:index": page(GET=EVERYONE, why="the caller's own dashboards (none for a consultant)"),
    "dashboard:contract": page(GET=DASHBOARD_ROLES, obj=code),
    "dashboard:simulator": page(GET=DASHBOARD_ROLES, obj=code),
    "dashboard:export_csv": page(GET=DASHBOARD_ROLES, obj=code),
    "dashboard:export_xlsx": page(GET=DASHBOARD_ROLES, obj=code),
    "dashboard:indigo": page(GET=DASHBOARD_ROLES, obj=code),
    # the consultant workspace
    "candidates:caseload": page(GET=OPERATOR_STAFF),
    "candidates:detail": page(GET=OPERATOR_STAFF, obj=candidate, colleague=second_candidate, colleague_methods=READ),
    "candidates:cpr": page(
        GET=OPERATOR_STAFF,
        POST=OPERATOR_STAFF,
        obj=candidate,
        colleague=second_candidate,
        colleague_methods=READ_AND_REVEAL,
    ),
    "candidates:enrol": page(POST=OPERATOR_STAFF, obj=candidate, colleague=second_candidate),
    "candidates:withdraw": page(POST=OPERATOR_STAFF, obj=candidate, colleague=second_candidate),
    "candidates:consent": page(POST=OPERATOR_STAFF, obj=candidate, colleague=second_candidate),
    "candidates:assign": page(POST=COORDINATOR_ONLY, obj=candidate),
    "candidates:notes": page(POST=OPERATOR_STAFF, obj=candidate, colleague=second_candidate),
    "candidates:history": page(GET=OPERATOR_STAFF, obj=candidate, colleague=second_candidate, colleague_methods=READ),
    "candidates:grid": page(GET=OPERATOR_STAFF),
    "candidates:grid_cell": page(
        GET=OPERATOR_STAFF,
        POST=OPERATOR_STAFF,
        obj=lambda s: {"pk": s.candidate.pk, "week": "2020-W03"},
        colleague=lambda s: {"pk": s.second_candidate.pk, "week": "2020-W03"},
        colleague_methods=READ,
    ),
    "candidates:upload": page(GET=OPERATOR_STAFF, POST=OPERATOR_STAFF),
    "candidates:upload_detail": page(
        GET=OPERATOR_STAFF,
        obj=lambda s: {"pk": s.upload.pk},
        colleague=lambda s: {"pk": s.second_upload.pk},
        why="a consultant follows their own uploads; the coordinator all of the operator's",
    ),
    "placements:employers": page(GET=OPERATOR_STAFF, POST=OPERATOR_STAFF),
    "placements:employer": page(GET=OPERATOR_STAFF, POST=OPERATOR_STAFF, obj=lambda s: {"pk": s.employer.pk}),
    "placements:job_search": page(GET=OPERATOR_STAFF),
    "placements:create": page(POST=OPERATOR_STAFF, obj=candidate, colleague=second_candidate),
    "placements:end": page(
        POST=OPERATOR_STAFF,
        obj=lambda s: {"pk": s.placement.pk},
        colleague=lambda s: {"pk": s.second_placement.pk},
    ),
    # the login machinery (accounts/): one's own security settings, no contract's data
    "accounts:security": page(GET=EVERYONE),
    "accounts:otp_setup": page(GET=EVERYONE, POST=EVERYONE),
    "accounts:otp_verify": page(GET=EVERYONE, POST=EVERYONE),
    "accounts:otp_disable": page(POST=EVERYONE),
    "accounts:backup_codes": page(POST=EVERYONE),
    "accounts:password_change": page(GET=EVERYONE, POST=EVERYONE),
    "accounts:password_change_done": page(GET=EVERYONE),
    "accounts:password_reset": page(GET=EVERYONE, POST=EVERYONE, anonymous=OK, why="for who cannot log in"),
    "accounts:password_reset_done": page(GET=EVERYONE, anonymous=OK),
    "accounts:password_reset_confirm": page(
        GET=EVERYONE,
        POST=EVERYONE,
        obj=lambda s: {"uidb64": "MQ", "token": "set-password"},
        other_ok=EVERYONE,
        anonymous=OK,
        why="the link from the reset mail; an invalid link says so",
    ),
    "accounts:password_reset_complete": page(GET=EVERYONE, anonymous=OK),
    # the personal data audit log: coordinators (their contracts' events) and admins
    "audit:search": page(GET=COORDINATOR_ONLY),
    "audit:export": page(GET=COORDINATOR_ONLY),
    # the REST API (methods must match the OpenAPI schema)
    "api:schema": page(GET=EVERYONE, anonymous=OK, why="the API's description, no data"),
    "api:docs": page(GET=EVERYONE, anonymous=OK, why="Swagger UI over the schema, no data"),
    "api:redoc": page(GET=EVERYONE, anonymous=OK, why="Redoc over the schema, no data"),
    "api:token": page(POST=EVERYONE, anonymous=OK, why="the token login itself"),
    "api:contracts": page(GET=EVERYONE),
    "api:contract": page(GET=EVERYONE, obj=code),
    "api:invoices": page(GET=EVERYONE),
    "api:invoice": page(GET=DOCUMENT_ROLES, obj=number),
    "api:invoice_status": page(GET=DOCUMENT_ROLES, obj=number),
    "api:invoice_pdf": page(GET=DOCUMENT_ROLES, obj=number),
    "api:invoice_xml": page(GET=DOCUMENT_ROLES, obj=number),
    "api:invoice_csv": page(GET=DOCUMENT_ROLES, obj=number),
    "api:invoice_xlsx": page(GET=DOCUMENT_ROLES, obj=number),
    "api:invoice_payment": page(POST=DOCUMENT_ROLES, obj=number),
    "api:line_dispute": page(POST=MUNICIPALITY_ONLY, obj=lambda s: {"number": s.document.number, "line_id": s.line.pk}),
    "api:payments": page(GET=EVERYONE),
    "api:disputes": page(GET=EVERYONE),
    "api:dispute_resolve": page(POST=COORDINATOR_ONLY, obj=lambda s: {"pk": s.dispute.pk}),
    "api:weekly_statuses": page(GET=EVERYONE),
    "api:weekly_status_bulk": page(POST=OPERATOR_STAFF, query=None, data=status_rows, json=True),
    "api:candidates": page(GET=EVERYONE),
    "api:candidate": page(GET=CANDIDATE_ROLES, obj=candidate, colleague=second_candidate, colleague_methods=READ),
    "api:referrals": page(POST=MUNICIPALITY_ONLY, data=referral, json=True),
    "api:ledger_entries": page(GET=EVERYONE),
    "api:ledger_balances": page(GET=EVERYONE),
}


# --- the admin -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminModel:
    """One registered model admin. The coordinator is the only staff role: what may they do there?"""

    obj: Build  # the side's object
    view: bool = False  # changelist, change page (read-only if no change), history
    add: bool = False
    delete: bool = False  # on their own object
    shared: bool = False  # one object for everyone (not of a contract): the other side is visible too
    admin_add: bool = True  # False for append-only records (B10): nobody adds, admins included
    admin_delete: bool = True
    history: bool = False  # simple_history's version pages
    app: str = ""  # an optional app (the row applies only while it is installed)


ADMIN_MODELS: dict[str, AdminModel] = {
    "authtoken.tokenproxy": AdminModel(obj=lambda s: s.token.user_id),  # the proxy's pk is its user's
    "organisations.organisation": AdminModel(obj=lambda s: s.operator.pk, view=True),
    "organisations.user": AdminModel(obj=lambda s: s.consultant.pk),
    "organisations.membership": AdminModel(obj=lambda s: s.consultant.memberships.get().pk),
    "organisations.contract": AdminModel(obj=lambda s: s.contract.pk, view=True),
    "organisations.benefitrate": AdminModel(obj=lambda s: s.benefit_rate.pk, view=True, shared=True),
    "candidates.candidate": AdminModel(obj=lambda s: s.candidate.pk, view=True, add=True, history=True),
    "candidates.weeklystatus": AdminModel(
        obj=lambda s: s.status.pk, view=True, add=True, admin_delete=False, history=True
    ),
    "candidates.weeklystatusupload": AdminModel(
        obj=lambda s: s.upload.pk, view=True, admin_add=False, admin_delete=False
    ),
    "placements.employer": AdminModel(obj=lambda s: s.employer.pk, view=True, add=True, delete=True),
    "placements.job": AdminModel(obj=lambda s: s.job.pk, view=True, add=True, delete=True),
    "placements.placement": AdminModel(obj=lambda s: s.placement.pk, view=True, add=True, delete=True, history=True),
    "billing.settlement": AdminModel(obj=lambda s: s.settlement.pk, view=True, admin_add=False, admin_delete=False),
    "billing.document": AdminModel(obj=lambda s: s.document.pk, view=True, admin_add=False, admin_delete=False),
    "billing.documentline": AdminModel(obj=lambda s: s.line.pk, view=True, admin_add=False, admin_delete=False),
    "billing.payment": AdminModel(obj=lambda s: s.payment.pk, view=True, admin_add=False, admin_delete=False),
    "billing.capitaldisbursement": AdminModel(
        obj=lambda s: s.disbursement.pk, view=True, admin_add=False, admin_delete=False
    ),
    "billing.journalentry": AdminModel(
        obj=lambda s: s.document.journal_entry.pk, view=True, admin_add=False, admin_delete=False
    ),
    "billing.posting": AdminModel(
        obj=lambda s: s.document.journal_entry.postings.order_by("pk").first().pk,
        view=True,
        admin_add=False,
        admin_delete=False,
    ),
    "billing.dispute": AdminModel(
        obj=lambda s: s.dispute.pk, view=True, admin_add=False, admin_delete=False, history=True
    ),
    "billing.referrallottery": AdminModel(obj=lambda s: s.lottery.pk, view=True, admin_add=False, admin_delete=False),
    "billing.documentemail": AdminModel(
        obj=lambda s: s.document_email.pk, view=True, admin_add=False, admin_delete=False
    ),
    # the login machinery and the audit log: admins only (when the app is installed)
    "audit.auditevent": AdminModel(
        obj=lambda s: s.extra["audit_event"].pk, admin_add=False, admin_delete=False, app="audit"
    ),
    "otp_totp.totpdevice": AdminModel(obj=lambda s: s.extra["totp_device"].pk, app="django_otp.plugins.otp_totp"),
    "otp_static.staticdevice": AdminModel(
        obj=lambda s: s.extra["static_device"].pk, app="django_otp.plugins.otp_static"
    ),
    "axes.accessattempt": AdminModel(obj=lambda s: s.extra["access_attempt"].pk, admin_add=False, app="axes"),
    "axes.accessfailurelog": AdminModel(obj=lambda s: s.extra["access_failure"].pk, admin_add=False, app="axes"),
    "axes.accesslog": AdminModel(obj=lambda s: s.extra["access_log"].pk, admin_add=False, app="axes"),
}


def _latest_version(model_label: str) -> Callable[[Side], tuple[Any, ...]]:
    def build(s: Side) -> tuple[Any, ...]:
        obj_pk = ADMIN_MODELS[model_label].obj(s)
        from django.apps import apps

        model = apps.get_model(model_label)
        version = model.history.filter(id=obj_pk).order_by("-history_id").first()  # type: ignore[attr-defined]
        return (obj_pk, version.history_id)

    return build


def _admin_entries() -> dict[str, Expect]:
    site: dict[str, Expect] = {
        "admin:index": page(GET=COORDINATOR_ONLY, staff_only=True),
        "admin:login": page(GET=EVERYONE, anonymous=OK, why="the admin's login form"),
        "admin:logout": page(
            POST=NOBODY,
            anonymous=OK,
            admin={"POST": LOGIN},
            answers={COORDINATOR: LOGIN, CONSULTANT: OK, MUNICIPALITY: OK, INVESTOR: OK},
            why="staff are logged out and sent to log in; others are only sent to the admin's index",
        ),
        "admin:password_change": page(GET=COORDINATOR_ONLY, staff_only=True),
        "admin:password_change_done": page(GET=COORDINATOR_ONLY, staff_only=True),
        "admin:jsi18n": page(GET=COORDINATOR_ONLY, staff_only=True),
        "admin:autocomplete": page(
            GET=NOBODY, admin={"GET": DENIED}, staff_only=True, why="without a model to complete: 403 for staff"
        ),
        "admin:view_on_site": page(
            GET=NOBODY,
            obj=lambda s: {"content_type_id": _content_type(s.candidate), "object_id": s.candidate.pk},
            admin={"GET": DENIED},
            staff_only=True,
            why="no model has get_absolute_url: 404 even for admins",
        ),
        "admin:app_list": page(
            GET=COORDINATOR_ONLY,
            obj=lambda s: {"app_label": "candidates"},
            other_ok=COORDINATOR_ONLY,
            staff_only=True,
            why="names an app, not a contract's object",
        ),
        "admin/(?P<url>.*)$": page(
            GET=NOBODY,
            obj=lambda s: {"url": "no-such-page/"},
            admin={"GET": DENIED},
            staff_only=True,
            why="the admin's catch-all: 404 for staff",
        ),
    }
    from django.apps import apps

    for label, model in ADMIN_MODELS.items():
        if model.app and not apps.is_installed(model.app):
            continue
        app, name = label.split(".")
        prefix = f"admin:{app}_{name}"
        view = COORDINATOR_ONLY if model.view else NOBODY
        other = COORDINATOR_ONLY if model.shared and model.view else NOBODY
        obj: Build = lambda s, model=model: {"object_id": model.obj(s)}  # noqa: E731
        site[f"{prefix}_changelist"] = page(GET=view, staff_only=True)
        site[f"{prefix}_add"] = page(
            GET=COORDINATOR_ONLY if model.add else NOBODY,
            admin={} if model.admin_add else {"GET": DENIED},
            staff_only=True,
        )
        site[f"{prefix}_change"] = page(GET=view, obj=obj, other_ok=other, staff_only=True)
        site[f"{prefix}_history"] = page(GET=view, obj=obj, other_ok=other, staff_only=True)
        site[f"{prefix}_delete"] = page(
            GET=COORDINATOR_ONLY if model.delete else NOBODY,
            obj=obj,
            admin={} if model.admin_delete else {"GET": DENIED},
            staff_only=True,
        )
        site[f"admin/{app}/{name}/<path:object_id>/"] = page(
            GET=COORDINATOR_ONLY,
            obj=obj,
            other_ok=COORDINATOR_ONLY,
            staff_only=True,
            why="only redirects to the change page, which decides",
        )
        if model.history:
            site[f"{prefix}_simple_history"] = page(
                GET=view, args=_latest_version(label), other_ok=other, staff_only=True
            )
    if apps.is_installed("django_otp.plugins.otp_totp"):
        device: Build = lambda s: {"pk": s.extra["totp_device"].pk}  # noqa: E731
        site["admin:otp_totp_totpdevice_config"] = page(GET=NOBODY, obj=device, staff_only=True)
        site["admin:otp_totp_totpdevice_qrcode"] = page(GET=NOBODY, obj=device, staff_only=True)
    site["admin:auth_user_password_change"] = page(GET=NOBODY, obj=lambda s: {"id": s.consultant.pk}, staff_only=True)
    return site


def _content_type(obj: Any) -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj).pk


EXPECT.update(_admin_entries())
