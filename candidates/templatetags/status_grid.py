"""`{% status_cell cell %}`: one cell of the weekly status grid, rendered in Python.

A grid page has two hundred cells; through the template engine each cost about a millisecond (most of the
page's time), and even `format_html` per attribute added up. Here every dynamic value is escaped once and
the cell is put together with plain string formatting; what is the same for every cell on the page (texts,
option lists, the URL prefix, the CSRF token) is worked out once per page. The grid page and the htmx
answer for a single cell (templates/candidates/partials/grid_cell.html) both use this one renderer.
"""

from __future__ import annotations

from html import escape
from typing import Any

from django import template
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from candidates.models import Outcome
from candidates.workspace_selectors import GridCell

register = template.Library()
DASH = "\u2013"  # shown for a week not recorded
_SAMPLE = (1, "2000-W01")


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _page(context: template.Context) -> dict[str, Any]:
    """What every cell of the page shares, worked out once per page (the template's render context)."""
    cache = context.render_context
    shared = cache.get("status_cell_page")
    if shared is None:
        sample = reverse("candidates:grid_cell", args=list(_SAMPLE))
        suffix = f"{_SAMPLE[0]}/{_SAMPLE[1]}/"
        if not sample.endswith(suffix):
            raise ImproperlyConfigured(f"status_cell expects cell URLs ending in <pk>/<week>/, not {sample}")
        shared = {
            "titles": {
                "settled": _e(gettext("Settled week: a correction needs a reason.")),
                "locked": _e(gettext("The contract is locked.")),
                "not_caseload": _e(gettext("Not on your caseload.")),
                "before_referral": _e(gettext("Before the referral.")),
                "future": _e(gettext("The week is in the future.")),
            },
            "reason": _e(gettext("Reason for the correction")),
            "save": _e(gettext("Save")),
            "cancel": _e(gettext("Cancel")),
            "suggestion": gettext("Suggestion: %(outcome)s (%(because)s). Press Enter to take it."),
            "suggested": gettext("%(outcome)s?"),
            "labels": {value: str(label) for value, label in Outcome.choices},
            "options": {},
            "url_prefix": sample[: -len(suffix)],
            "csrf": _e(context.get("csrf_token") or ""),
            "grid_url": _e(context.get("grid_url") or ""),
        }
        cache["status_cell_page"] = shared
    return shared


def _options(shared: dict[str, Any], selected: str, suggestion: str) -> str:
    """The <option>s of a select, by (selected outcome, suggested outcome): a handful of variants per page."""
    key = (selected, suggestion if not selected else "")
    html = shared["options"].get(key)
    if html is None:
        labels = shared["labels"]
        parts = []
        if not selected:
            empty = shared["suggested"] % {"outcome": labels[suggestion]} if suggestion else DASH
            parts.append(f'<option value="" selected>{_e(empty)}</option>')
        for value, label in labels.items():
            chosen = " selected" if value == selected else ""
            parts.append(f'<option value="{value}"{chosen}>{_e(label)}</option>')
        html = shared["options"][key] = "".join(parts)
    return html


def _classes(cell: GridCell, errors: list[str]) -> str:
    classes = ["cell"]
    if cell.settled:
        classes.append("settled")
    if cell.status is not None:
        classes.append(f"outcome-{cell.status.outcome}")
    elif cell.suggestion is not None:
        classes.append("suggested")
    if not cell.editable:
        classes.append("locked")
    if errors:
        classes.append("has-error")
    return " ".join(classes)


@register.simple_tag(takes_context=True)
def status_cell(
    context: template.Context,
    cell: GridCell,
    errors: list[str] | None = None,
    needs_reason: bool = False,
    chosen: str = "",
    note: str = "",
) -> SafeString:
    shared = _page(context)
    errors = errors or []
    key = cell.key  # digits and an ISO week: nothing to escape
    error_id = f"error-{key}"
    error_html = f'<p class="cell-error" id="{error_id}" role="alert">{_e(" ".join(errors))}</p>' if errors else ""
    if cell.editable:
        title = shared["titles"]["settled"] if cell.settled else ""
    else:
        title = shared["titles"].get(cell.reason, "")
    title_attr = f' title="{title}"' if title else ""
    opening = f'<td id="grid_cell-{key}" class="{_classes(cell, errors)}"{title_attr}>'

    if not cell.editable:
        if cell.status is not None:
            value = _e(shared["labels"].get(cell.status.outcome, cell.status.outcome))
        else:
            value = f'<span class="muted">{DASH}</span>'
        return mark_safe(f'{opening}<span class="cell-value">{value}</span>{error_html}</td>')  # noqa: S308  # nosec B308 B703  # escaped above

    url = f"{shared['url_prefix']}{cell.candidate.pk}/{cell.week_label}/"
    iso = cell.week.isocalendar()
    label = _e(f"{cell.candidate.ref}, uge {iso.week} {iso.year}")
    suggestion = cell.suggestion
    attrs = f'name="outcome" id="outcome-{key}" class="cell-select"'
    if suggestion is not None:
        attrs += f' data-suggestion="{suggestion.outcome}"'
    if not needs_reason:
        attrs += f' hx-post="{url}"'  # hx-trigger (change), target, swap and sync come from the table
    if errors:
        attrs += f' aria-invalid="true" aria-describedby="{error_id}"'
    selected = chosen or (cell.status.outcome if cell.status is not None else "")
    options = _options(shared, selected, suggestion.outcome if suggestion is not None else "")
    hint = ""
    if suggestion is not None:
        text = shared["suggestion"] % {"outcome": shared["labels"][suggestion.outcome], "because": suggestion.because}
        hint = f'<span class="visually-hidden">{_e(text)}</span>'
    reason = ""
    if needs_reason:
        reason = (
            f'<label class="reason-label" for="note-{key}">{shared["reason"]}</label>'
            f'<input type="text" name="note" id="note-{key}" class="cell-note" value="{_e(note)}" maxlength="500"'
            f' required autofocus aria-describedby="{error_id}" data-cancel="cancel-{key}">'
            f'<span class="cell-actions"><button type="submit" class="small primary">{shared["save"]}</button>'
            f'<button type="button" class="small" id="cancel-{key}" hx-get="{url}">{shared["cancel"]}</button></span>'
        )
    return mark_safe(  # noqa: S308  # nosec B308 B703  # every value from data or users is escaped above
        f'{opening}<form method="post" action="{url}" hx-post="{url}">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{shared["csrf"]}">'
        f'<input type="hidden" name="next" value="{shared["grid_url"]}">'
        f'<label class="visually-hidden" for="outcome-{key}">{label}</label>'
        f"<select {attrs}>{options}</select>{hint}{reason}"
        f'<noscript><button type="submit" class="small">{shared["save"]}</button></noscript>'
        f"</form>{error_html}</td>"
    )
