"""Template filters for ISO weeks: `{{ monday|iso_week }}` -> 2020-W53, `{{ monday|uge }}` -> uge 53."""

from __future__ import annotations

from datetime import date

from django import template

from common import weeks

register = template.Library()


@register.filter
def iso_week(value: date | None) -> str:
    return weeks.format_week(value) if value else ""


@register.filter
def uge(value: date | None) -> str:
    return weeks.danish_week_label(value) if value else ""
