"""Server-side SVG charts: geometry computed here, drawn by `billing/dashboard_chart.html` (no JavaScript, no CDN).

Colours are SVG presentation attributes, never inline styles, so a Content-Security-Policy without
'unsafe-inline' needs no exception. Every chart carries its numbers as a table for screen readers and export.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.utils import formats
from django.utils.dateformat import format as date_format

WIDTH, HEIGHT = 600, 290
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 14, 12, 40

COLOURS = {
    "full": "#0b5c8a",
    "partial": "#5fa8d3",
    "education": "#e59f2f",
    "payments": "#157f3b",
    "invoiced": "#8cc79f",
    "capital": "#b42318",
    "target": "#157f3b",
    "baseline": "#5b6775",
    "actual": "#0b5c8a",
    "band": "#9cc7e4",
}


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class Path:
    d: str
    colour: str
    label: str
    dash: str = ""
    fill: bool = False
    opacity: str = "1"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    colour: str
    title: str


@dataclass(frozen=True)
class LegendItem:
    label: str
    colour: str
    kind: str = "area"  # area | line | dash | band

    @property
    def dash(self) -> str:
        return "6 4" if self.kind == "dash" else ("2 3" if self.kind == "dot" else "")


@dataclass
class Chart:
    id: str
    title: str
    description: str
    width: int = WIDTH
    height: int = HEIGHT
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    y_label: str = ""
    x_label: str = ""
    paths: list[Path] = field(default_factory=list)
    rects: list[Rect] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)
    note: str = ""
    empty: bool = False
    labels: list[Tick] = field(default_factory=list)  # category labels on the y axis (horizontal bars)
    label_width: int = 0  # room for those labels

    @property
    def left(self) -> int:
        return self.label_width or MARGIN_LEFT

    @property
    def right(self) -> int:
        return self.width - MARGIN_RIGHT

    @property
    def top(self) -> int:
        return MARGIN_TOP

    @property
    def bottom(self) -> int:
        return self.height - MARGIN_BOTTOM

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def x_label_y(self) -> int:
        return self.bottom + 20


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `maximum` (steps of 1, 2 or 5 times a power of ten)."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    top = math.ceil(maximum / step) * step
    return [i * step for i in range(round(top / step) + 1)]


def format_axis_number(value: float) -> str:
    if abs(value) >= 1_000_000:
        return formats.number_format(value / 1_000_000, 1 if value % 1_000_000 else 0, use_l10n=True) + " mio."
    return formats.number_format(value, 0, use_l10n=True, force_grouping=True)


def format_axis_percent(value: float) -> str:
    return formats.number_format(value * 100, 0, use_l10n=True) + " %"


class _Scale:
    def __init__(self, domain: tuple[float, float], span: tuple[float, float]) -> None:
        self.d0, self.d1 = domain
        self.r0, self.r1 = span

    def __call__(self, value: float) -> float:
        if self.d1 == self.d0:
            return self.r0
        return round(self.r0 + (value - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0), 1)


def _date_ticks(first: date, last: date, x: Callable[[float], float]) -> list[Tick]:
    span_days = (last - first).days
    months = (1,) if span_days > 3 * 365 else ((1, 7) if span_days > 400 else (1, 4, 7, 10))
    ticks = []
    for year in range(first.year, last.year + 1):
        for month in months:
            day = date(year, month, 1)
            if first <= day <= last:
                ticks.append(Tick(x(day.toordinal()), date_format(day, "M Y")))
    return ticks


def _polyline(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(("M" if i == 0 else "L") + f"{px},{py}" for i, (px, py) in enumerate(points))


def _segments(xs: Sequence[float], ys: Sequence[float | None]) -> str:
    """A path that breaks where a value is missing (suppressed or unobserved)."""
    parts: list[str] = []
    run: list[tuple[float, float]] = []
    for px, py in zip(xs, ys, strict=True):
        if py is None:
            if run:
                parts.append(_polyline(run))
            run = []
        else:
            run.append((px, py))
    if run:
        parts.append(_polyline(run))
    return " ".join(parts)


def stacked_area_chart(
    *,
    id: str,
    title: str,
    description: str,
    days: Sequence[date],
    layers: Sequence[tuple[str, str, Sequence[int | None]]],
    y_label: str,
) -> Chart:
    """Weekly counts stacked: one filled band per layer (key, label, values); a missing value counts as 0."""
    chart = Chart(id=id, title=title, description=description, y_label=y_label)
    if not days:
        chart.empty = True
        return chart
    totals = [sum(values[i] or 0 for _, _, values in layers) for i in range(len(days))]
    ticks = nice_ticks(max(totals) if totals else 1)
    x = _Scale((days[0].toordinal(), days[-1].toordinal()), (chart.left, chart.right))
    y = _Scale((0, ticks[-1]), (chart.bottom, chart.top))
    chart.x_ticks = _date_ticks(days[0], days[-1], x)
    chart.y_ticks = [Tick(y(t), format_axis_number(t)) for t in ticks]
    base = [0.0] * len(days)
    for key, label, values in layers:
        upper = [base[i] + (values[i] or 0) for i in range(len(days))]
        top = [(x(d.toordinal()), y(v)) for d, v in zip(days, upper, strict=True)]
        bottom = [(x(d.toordinal()), y(v)) for d, v in zip(days, base, strict=True)][::-1]
        chart.paths.append(Path(d=_polyline(top + bottom) + " Z", colour=COLOURS.get(key, key), label=label, fill=True))
        chart.legend.append(LegendItem(label, COLOURS.get(key, key)))
        base = upper
    return chart


def line_chart(
    *,
    id: str,
    title: str,
    description: str,
    days: Sequence[date],
    lines: Sequence[tuple[str, str, Sequence[float | None], str]],
    y_label: str,
    percent: bool = False,
    band: tuple[Sequence[float | None], Sequence[float | None], str] | None = None,
    y_max: float | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Lines over weeks: (colour key, label, values, kind) with kind line | dash | dot; optional band (low, high, label)."""
    chart = Chart(id=id, title=title, description=description, y_label=y_label, width=width, height=height)
    values = [v for _, _, vs, _ in lines for v in vs if v is not None]
    if band:
        values += [v for v in band[1] if v is not None]
    if not days or not values:
        chart.empty = True
        return chart
    top_value = max(max(values), y_max or 0)
    ticks = [t / 10 for t in range(0, 11, 2)] if percent and top_value <= 1 else nice_ticks(top_value)
    x = _Scale((days[0].toordinal(), days[-1].toordinal()), (chart.left, chart.right))
    y = _Scale((0, ticks[-1]), (chart.bottom, chart.top))
    chart.x_ticks = _date_ticks(days[0], days[-1], x)
    chart.y_ticks = [Tick(y(t), format_axis_percent(t) if percent else format_axis_number(t)) for t in ticks]
    xs = [x(d.toordinal()) for d in days]
    if band:
        low, high, label = band
        points = [(px, y(h)) for px, h in zip(xs, high, strict=True) if h is not None]
        back = [(px, y(lo)) for px, lo in zip(xs, low, strict=True) if lo is not None][::-1]
        if points and back:
            chart.paths.append(
                Path(d=_polyline(points + back) + " Z", colour=COLOURS["band"], label=label, fill=True, opacity="0.55")
            )
            chart.legend.append(LegendItem(label, COLOURS["band"], "band"))
    for key, label, series, kind in lines:
        ys = [None if v is None else y(v) for v in series]
        dash = {"dash": "6 4", "dot": "2 3"}.get(kind, "")
        chart.paths.append(Path(d=_segments(xs, ys), colour=COLOURS.get(key, key), label=label, dash=dash))
        chart.legend.append(LegendItem(label, COLOURS.get(key, key), kind if kind != "line" else "line"))
    return chart


def number_line_chart(
    *,
    id: str,
    title: str,
    description: str,
    xs: Sequence[int],
    series: Sequence[float | None],
    label: str,
    x_label: str,
    y_label: str,
) -> Chart:
    """A share (0-1) against a whole-number x axis (e.g. weeks after the first paid week)."""
    chart = Chart(id=id, title=title, description=description, x_label=x_label, y_label=y_label)
    if not xs or all(v is None for v in series):
        chart.empty = True
        return chart
    x = _Scale((xs[0], xs[-1]), (chart.left, chart.right))
    y = _Scale((0, 1), (chart.bottom, chart.top))
    step = next(s for s in (1, 2, 4, 13, 26, 52) if (xs[-1] - xs[0]) / s <= 10)
    chart.x_ticks = [Tick(x(v), str(v)) for v in range(xs[0], xs[-1] + 1) if v % step == 0]
    chart.y_ticks = [Tick(y(t / 10), format_axis_percent(t / 10)) for t in range(0, 11, 2)]
    px = [x(v) for v in xs]
    chart.paths.append(
        Path(d=_segments(px, [None if v is None else y(v) for v in series]), colour=COLOURS["actual"], label=label)
    )
    chart.legend.append(LegendItem(label, COLOURS["actual"], "line"))
    return chart


def horizontal_bar_chart(
    *,
    id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    layers: Sequence[tuple[str, str, Sequence[int | None]]],
    x_label: str,
) -> Chart:
    """One stacked horizontal bar per category; a missing (suppressed) segment is not drawn."""
    height = max(140, 56 + 34 * len(categories))
    longest = max((len(c) for c in categories), default=10)
    chart = Chart(
        id=id,
        title=title,
        description=description,
        height=height,
        x_label=x_label,
        label_width=min(260, 24 + 7 * longest),
    )
    if not categories:
        chart.empty = True
        return chart
    totals = [sum(values[i] or 0 for _, _, values in layers) for i in range(len(categories))]
    ticks = nice_ticks(max(totals) or 1)
    x = _Scale((0, ticks[-1]), (chart.left, chart.right))
    chart.x_ticks = [Tick(x(t), format_axis_number(t)) for t in ticks]
    band = (chart.bottom - chart.top) / len(categories)
    for index, category in enumerate(categories):
        top = chart.top + index * band + band * 0.18
        chart.labels.append(Tick(round(top + band * 0.32 + 4, 1), category))
        start = 0.0
        for key, label, values in layers:
            value = values[index]
            if not value:
                continue
            chart.rects.append(
                Rect(
                    x=x(start),
                    y=round(top, 1),
                    w=round(x(start + value) - x(start), 1),
                    h=round(band * 0.64, 1),
                    colour=COLOURS.get(key, key),
                    title=f"{category}, {label}: {format_axis_number(value)}",
                )
            )
            start += value
    chart.legend = [LegendItem(label, COLOURS.get(key, key)) for key, label, _ in layers]
    return chart
