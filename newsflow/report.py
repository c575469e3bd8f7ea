"""``newsflow report``: one self-contained HTML file with charts of what the warehouse holds.

The page has no script, no external resource and no font to fetch: the charts are inline SVG drawn here, and
every piece of text that comes from the data is HTML-escaped, in element text and in attributes alike.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from newsflow.settings import Settings
from warehouse.catalog import LAKE, reader

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
)
OTHER_COLOUR = "#bab0ac"
STATE_COLOURS = {
    "completed": "#59a14f",
    "failed": "#e15759",
    "crashed": "#e15759",
    "cancelled": "#bab0ac",
    "running": "#4e79a7",
}
MAX_SOURCES = 8
TOP_OVER_TIME = 5
TOP_TABLE = 15
LATEST = 20
RUN_POINTS = 500
QUARANTINE_BARS = 12
UNITS = ("day", "week", "month", "year")
WHEN = "coalesce(published_at, ingested_at)"
EPOCH = datetime(1970, 1, 1)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def _plural(count: int, noun: str, plural: str = "") -> str:
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def _when(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


class _Warehouse:
    """The reader connection, plus what tables and columns this warehouse actually has."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.columns: dict[str, set[str]] = {}
        for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ?", [LAKE]
        ).fetchall():
            self.columns.setdefault(table, set()).add(column)

    def has(self, table: str, *columns: str) -> bool:
        return table in self.columns and all(column in self.columns[table] for column in columns)

    def col(self, table: str, column: str) -> str:
        return column if self.has(table, column) else f"NULL AS {column}"

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def one(self, sql: str, params: Sequence[object] = ()) -> tuple[Any, ...]:
        row = self.con.execute(sql, list(params)).fetchone()
        assert row is not None
        return row


def _choose_unit(first: date, last: date) -> str:
    span = (last - first).days
    if span <= 92:
        return "day"
    if span <= 3 * 365:
        return "week"
    if span <= 40 * 365:
        return "month"
    return "year"


def _at_least(unit: str, floor: str) -> str:
    return UNITS[max(UNITS.index(unit), UNITS.index(floor))]


def _truncate(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "year":
        return day.replace(month=1, day=1)
    return day


def _advance(day: date, unit: str) -> date:
    if unit == "day":
        return day + timedelta(days=1)
    if unit == "week":
        return day + timedelta(days=7)
    if unit == "month":
        return (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return day.replace(year=day.year + 1)


def _buckets(first: date, last: date, unit: str) -> list[date]:
    day, end, buckets = _truncate(first, unit), _truncate(last, unit), []
    while day <= end:
        buckets.append(day)
        try:
            day = _advance(day, unit)
        except (OverflowError, ValueError):
            break
    return buckets


def _bucket_label(day: date, unit: str) -> str:
    return {"month": day.strftime("%Y-%m"), "year": day.strftime("%Y")}.get(unit, day.isoformat())


def _bucket_tip(day: date, unit: str) -> str:
    if unit == "week":
        return f"week of {day.isoformat()}"
    return _bucket_label(day, unit)


@dataclass(frozen=True)
class _Series:
    name: str
    colour: str
    values: Sequence[float | None]
    opacity: float = 1.0


@dataclass(frozen=True)
class _Frame:
    width: int = 960
    height: int = 300
    left: int = 64
    right: int = 24
    top: int = 16
    bottom: int = 54

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    @property
    def baseline(self) -> float:
        return self.height - self.bottom


def _ticks(low: float, high: float, integer: bool = False, target: int = 5) -> list[float]:
    if not high > low:
        high = low + 1
    raw = (high - low) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1, math.ceil(step))
    start = math.floor(low / step) * step
    count = math.ceil(high / step - start / step - 1e-9)
    return [round(start + i * step, 9) for i in range(count + 1)]


def _svg(frame: _Frame, label: str, parts: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" '
        f'height="{frame.height}" role="img" aria-label="{_e(label)}">' + "".join(parts) + "</svg>"
    )


def _y_axis(frame: _Frame, ticks: list[float], to_y: Callable[[float], float], title: str) -> list[str]:
    parts = []
    right = frame.width - frame.right
    for tick in ticks:
        y = to_y(tick)
        parts.append(f'<line class="grid" x1="{frame.left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{frame.left - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(tick)}</text>"
        )
    middle = frame.top + frame.plot_height / 2
    parts.append(
        f'<text class="axis-title" transform="translate(16 {middle:.1f}) rotate(-90)" '
        f'text-anchor="middle">{_e(title)}</text>'
    )
    return parts


def _x_axis(frame: _Frame, ticks: list[tuple[float, str]], title: str) -> list[str]:
    base = frame.baseline
    parts = [
        f'<line class="axis" x1="{frame.left}" x2="{frame.width - frame.right}" y1="{base}" y2="{base}"/>'
    ]
    for x, label in ticks:
        half = len(label) * 3.4
        anchor = "middle"
        if x - half < frame.left - frame.left / 2:
            anchor = "start"
        elif x + half > frame.width - 2:
            anchor = "end"
        parts.append(f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 5}"/>')
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{base + 19}" text-anchor="{anchor}">{_e(label)}</text>'
        )
    parts.append(
        f'<text class="axis-title" x="{frame.left + frame.plot_width / 2:.1f}" y="{frame.height - 8}" '
        f'text-anchor="middle">{_e(title)}</text>'
    )
    return parts


def _label_step(frame: _Frame, labels: list[str]) -> int:
    widest = max((len(label) for label in labels), default=1)
    room = max(1, int(frame.plot_width // (widest * 7 + 24)))
    return max(1, math.ceil(len(labels) / room))


def _stacked_bars(
    labels: list[str], tips: list[str], series: list[_Series], *, y_title: str, x_title: str, label: str
) -> str:
    frame = _Frame()
    count = len(labels)
    totals = [sum(s.values[i] or 0 for s in series) for i in range(count)]
    ticks = _ticks(0, max(totals, default=0) or 1, integer=True)

    def to_y(value: float) -> float:
        return frame.baseline - value / ticks[-1] * frame.plot_height

    parts = _y_axis(frame, ticks, to_y, y_title)
    band = frame.plot_width / max(1, count)
    width = min(48.0, band * 0.8 if band >= 4 else band)
    for i in range(count):
        x = frame.left + band * i + (band - width) / 2
        stacked = 0.0
        for s in series:
            value = s.values[i] or 0
            if not value:
                continue
            top, bottom = to_y(stacked + value), to_y(stacked)
            stacked += value
            tip = f"{tips[i]} · {s.name}: {_number(value)}"
            faded = f' fill-opacity="{s.opacity}"' if s.opacity < 1 else ""
            parts.append(
                f'<rect x="{x:.2f}" y="{top:.2f}" width="{width:.2f}" height="{bottom - top:.2f}" '
                f'fill="{s.colour}"{faded}><title>{_e(tip)}</title></rect>'
            )
    step = _label_step(frame, labels)
    ticks_x = [(frame.left + band * (i + 0.5), labels[i]) for i in range(0, count, step)]
    return _svg(frame, label, parts + _x_axis(frame, ticks_x, x_title))


def _line_chart(
    xs: list[float],
    series: list[_Series],
    *,
    x_domain: tuple[float, float],
    x_ticks: list[tuple[float, str]],
    tips: list[str],
    y_title: str,
    x_title: str,
    label: str,
    integer: bool = False,
    point_colours: list[str] | None = None,
) -> str:
    frame = _Frame()
    series = [
        _Series(s.name, s.colour, [v if v is not None and math.isfinite(v) else None for v in s.values])
        for s in series
    ]
    values = [v for s in series for v in s.values if v is not None]
    ticks = _ticks(min([*values, 0.0]), max([*values, 0.0]), integer=integer)
    low, high = x_domain

    def to_x(x: float) -> float:
        return frame.left + (x - low) / (high - low) * frame.plot_width

    def to_y(value: float) -> float:
        return frame.baseline - (value - ticks[0]) / (ticks[-1] - ticks[0]) * frame.plot_height

    parts = _y_axis(frame, ticks, to_y, y_title)
    if ticks[0] < 0 < ticks[-1]:
        zero = to_y(0)
        parts.append(
            f'<line class="zero" x1="{frame.left}" x2="{frame.width - frame.right}" '
            f'y1="{zero:.1f}" y2="{zero:.1f}"/>'
        )
    dense = len(xs) > 60
    radius = 2.2 if dense else 3.5
    for s in series:
        path, pen_down = [], False
        for x, value in zip(xs, s.values, strict=True):
            if value is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{to_x(x):.1f} {to_y(value):.1f}")
            pen_down = True
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{s.colour}" stroke-width="2"/>')
        for i, (x, value) in enumerate(zip(xs, s.values, strict=True)):
            if value is None:
                continue
            colour = point_colours[i] if point_colours else s.colour
            isolated = (i == 0 or s.values[i - 1] is None) and (i + 1 == len(xs) or s.values[i + 1] is None)
            visible = point_colours or not dense or isolated
            shape = f'r="{radius}"' if visible else 'r="4" fill-opacity="0"'
            tip = f"{tips[i]} · {s.name}: {_number(round(value, 2))}"
            parts.append(
                f'<circle cx="{to_x(x):.1f}" cy="{to_y(value):.1f}" {shape} fill="{colour}">'
                f"<title>{_e(tip)}</title></circle>"
            )
    ticks_x = [(to_x(x), text) for x, text in x_ticks]
    return _svg(frame, label, parts + _x_axis(frame, ticks_x, x_title))


def _bucket_line_chart(
    buckets: list[date], unit: str, series: list[_Series], *, y_title: str, x_title: str, label: str
) -> str:
    labels = [_bucket_label(day, unit) for day in buckets]
    step = _label_step(_Frame(), labels)
    return _line_chart(
        [i + 0.5 for i in range(len(buckets))],
        series,
        x_domain=(0, len(buckets)),
        x_ticks=[(i + 0.5, labels[i]) for i in range(0, len(labels), step)],
        tips=[_bucket_tip(day, unit) for day in buckets],
        y_title=y_title,
        x_title=x_title,
        label=label,
        integer=all(v is None or float(v).is_integer() for s in series for v in s.values),
    )


def _hbar_chart(rows: list[tuple[str, int]], colour: str, *, x_title: str, label: str) -> str:
    row_height = 28
    frame = _Frame(height=16 + row_height * len(rows) + 50, left=380, right=70)
    ticks = _ticks(0, max(value for _, value in rows), integer=True)

    def to_x(value: float) -> float:
        return frame.left + value / ticks[-1] * frame.plot_width

    parts = []
    for tick in ticks:
        x = to_x(tick)
        parts.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top}" y2="{frame.baseline}"/>')
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{frame.baseline + 18}" text-anchor="middle">'
            f"{_number(tick)}</text>"
        )
    for i, (name, value) in enumerate(rows):
        y = frame.top + i * row_height
        end = to_x(value)
        tip = f"{name}: {value:,}"
        parts.append(
            f'<text class="label" x="{frame.left - 10}" y="{y + row_height / 2 + 4:.1f}" text-anchor="end">'
            f"<title>{_e(tip)}</title>{_e(_clip(name, 56))}</text>"
        )
        parts.append(
            f'<rect x="{frame.left}" y="{y + 5}" width="{max(end - frame.left, 1):.2f}" '
            f'height="{row_height - 10}" fill="{colour}"><title>{_e(tip)}</title></rect>'
        )
        parts.append(
            f'<text class="value" x="{end + 6:.1f}" y="{y + row_height / 2 + 4:.1f}">{value:,}</text>'
        )
    parts.append(
        f'<text class="axis-title" x="{frame.left + frame.plot_width / 2:.1f}" y="{frame.height - 8}" '
        f'text-anchor="middle">{_e(x_title)}</text>'
    )
    return _svg(frame, label, parts)


def _legend(items: Sequence[tuple[str, str] | tuple[str, str, float]]) -> str:
    entries = []
    for name, colour, *rest in items:
        opacity = f";opacity:{rest[0]}" if rest else ""
        entries.append(f'<span><i style="background:{colour}{opacity}"></i>{_e(name)}</span>')
    return f'<div class="legend">{"".join(entries)}</div>'


def _text(value: object) -> str:
    if isinstance(value, bool):
        return _e(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, datetime | date):
        return _when(value)
    return _e(value)


def _kind(values: list[object]) -> str:
    present = [value for value in values if value is not None]
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "num"
    if present and all(isinstance(v, datetime | date) for v in present):
        return "when"
    return ""


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], wide: Sequence[str] = ()) -> str:
    kinds = ["uri" if name in wide else _kind([row[i] for row in rows]) for i, name in enumerate(headers)]
    head = "".join(
        f'<th class="{kind}">{_e(name)}</th>' if kind else f"<th>{_e(name)}</th>"
        for name, kind in zip(headers, kinds, strict=True)
    )
    body = []
    for row in rows:
        cells = []
        for kind, value in zip(kinds, row, strict=True):
            if value is None:
                cells.append('<td class="muted">—</td>')
            else:
                cells.append(
                    f'<td class="{kind}">{_text(value)}</td>' if kind else f"<td>{_text(value)}</td>"
                )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _note(text: str) -> str:
    return f'<p class="note">{text}</p>'


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{body}</section>'


@dataclass(frozen=True)
class _Span:
    first: date
    last: date
    unit: str

    @property
    def buckets(self) -> list[date]:
        return _buckets(self.first, self.last, self.unit)


def _summary(db: _Warehouse) -> tuple[str, dict[str, Any]]:
    facts: dict[str, Any] = {"articles": 0, "files": 0, "runs": 0}
    cards: list[tuple[str, str, str]] = []
    if db.has("articles"):
        articles, sources, first_pub, last_pub, dated, last_ingest = db.one(
            "SELECT count(*), count(DISTINCT source), min(published_at)::DATE, max(published_at)::DATE, "
            "count(published_at), max(ingested_at) FROM articles"
        )
        facts["articles"] = articles
        cards.append(("articles", f"{articles:,}", f"{articles - dated:,} without published_at"))
        cards.append(("sources", f"{sources:,}", ""))
        published = "—" if first_pub is None else str(first_pub)
        if last_pub != first_pub:
            published += f" → {last_pub}"
        cards.append(("published", published, f"last ingest {_when(last_ingest)}"))
    if db.has("ingested_files"):
        statuses = db.rows(
            "SELECT coalesce(status, '(none)'), count(*) FROM ingested_files GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        facts["files"] = sum(n for _, n in statuses)
        detail = " · ".join(f"{_e(status)} {n:,}" for status, n in statuses)
        cards.append(("files", f"{facts['files']:,}", detail))
    if db.has("ingest_runs"):
        states = db.rows(
            "SELECT coalesce(state, '(none)'), count(*) FROM ingest_runs GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        facts["runs"] = sum(n for _, n in states)
        detail = " · ".join(f"{_e(state)} {n:,}" for state, n in states)
        cards.append(("ingest runs", f"{facts['runs']:,}", detail))
    extra = [
        f"{_e(table.removeprefix('article_'))} {db.one(f'SELECT count(*) FROM {table}')[0]:,}"
        for table in ("article_entities", "article_quotes", "article_keywords")
        if db.has(table)
    ]
    body = "".join(
        f'<div class="card"><div class="label">{_e(label)}</div>'
        f'<div class="value{" small" if len(value) > 12 else ""}">{_e(value)}</div>'
        f'<div class="detail">{detail}</div></div>'
        for label, value, detail in cards
    )
    enrichment = _note("Enrichment rows: " + " · ".join(extra)) if extra else ""
    return f'<div class="cards">{body}</div>{enrichment}', facts


def _span(db: _Warehouse) -> _Span | None:
    if not db.has("articles"):
        return None
    first, last = db.one(f"SELECT min({WHEN})::DATE, max({WHEN})::DATE FROM articles")
    if first is None:
        return None
    return _Span(first, last, _choose_unit(first, last))


def _articles_section(db: _Warehouse, span: _Span | None) -> str:
    title = "Articles over time, by source"
    if span is None:
        undated = db.one("SELECT count(*) FROM articles")[0] if db.has("articles") else 0
        message = f"{_plural(undated, 'article')}, none with a date." if undated else "No articles yet."
        return _section("articles", title, _note(message))
    unit = span.unit
    rows = db.rows(
        f"SELECT date_trunc('{unit}', {WHEN})::DATE, coalesce(source, '(no source)'), "
        f"published_at IS NULL, count(*) FROM articles WHERE {WHEN} IS NOT NULL GROUP BY ALL"
    )
    undated = db.one(f"SELECT count(*) FILTER ({WHEN} IS NULL) FROM articles")[0]
    totals: dict[str, int] = {}
    for _, source, _, n in rows:
        totals[source] = totals.get(source, 0) + n
    fallback = sum(n for _, _, dated_by_ingest, n in rows if dated_by_ingest)
    ranked = sorted(totals, key=lambda source: (-totals[source], source))
    shown = ranked if len(ranked) <= MAX_SOURCES + 1 else ranked[:MAX_SOURCES]
    other = f"{len(ranked) - len(shown)} other sources"
    names = {source: source for source in shown} | {source: other for source in ranked[len(shown) :]}
    order = shown + ([other] if len(shown) < len(ranked) else [])
    colours = {name: PALETTE[i] if name != other else OTHER_COLOUR for i, name in enumerate(order)}
    buckets = span.buckets
    index = {day: i for i, day in enumerate(buckets)}
    counts = {(name, late): [0.0] * len(buckets) for name in order for late in (False, True)}
    for day, source, dated_by_ingest, n in rows:
        counts[names[source], dated_by_ingest][index[day]] += n
    series = []
    for name in order:
        series.append(_Series(name, colours[name], list(counts[name, False])))
        if fallback:
            series.append(_Series(f"{name}, dated by ingested_at", colours[name], counts[name, True], 0.4))
    basis = "published_at date" if not fallback else "published_at date, else ingested_at date"
    chart = _stacked_bars(
        [_bucket_label(day, unit) for day in buckets],
        [_bucket_tip(day, unit) for day in buckets],
        series,
        y_title=f"articles per {unit}",
        x_title=f"{basis} (per {unit})",
        label=f"Articles per {unit} by source",
    )
    legend: list[tuple[str, str] | tuple[str, str, float]] = list(colours.items())
    if fallback:
        how = (
            f"Counted by <b>published_at</b>; {_plural(fallback, 'article')} without a published_at "
            "are counted on their <b>ingested_at</b> date, in paler bars."
        )
        legend.append(("paler: no published_at, dated by ingested_at", PALETTE[0], 0.4))
    else:
        how = "Counted by <b>published_at</b> date."
    if undated:
        how += f" {_plural(undated, 'article')} with neither date are left out."
    note = _note(f"Articles per {unit}, stacked by source. {how}")
    return _section("articles", f"Articles per {unit}, by source", note + chart + _legend(legend))


def _entity_section(db: _Warehouse, span: _Span | None, entity_type: str, anchor: str, title: str) -> str:
    if not db.has("article_entities") or span is None:
        return _section(anchor, title, _note("No entities yet."))
    places = entity_type == "LOCATION"
    top = db.rows(
        "SELECT entity, mode(country_code), count(DISTINCT article_id) AS articles, "
        "sum(mentions) AS mentions "
        "FROM article_entities WHERE entity_type = ? AND entity IS NOT NULL "
        "GROUP BY entity ORDER BY articles DESC, mentions DESC NULLS LAST, entity LIMIT ?",
        [entity_type, TOP_TABLE],
    )
    if not top:
        return _section(
            anchor, title, _note(f"No {'places' if places else 'people'} found in the articles yet.")
        )
    leaders = [row[0] for row in top[:TOP_OVER_TIME]]
    unit = _at_least(span.unit, "week")
    buckets = _buckets(span.first, span.last, unit)
    index = {day: i for i, day in enumerate(buckets)}
    rows = db.rows(
        f"SELECT e.entity, date_trunc('{unit}', coalesce(a.published_at, a.ingested_at))::DATE, "
        "count(DISTINCT e.article_id) FROM article_entities e JOIN articles a USING (article_id) "
        "WHERE e.entity_type = ? AND list_contains(?::VARCHAR[], e.entity) "
        "AND coalesce(a.published_at, a.ingested_at) IS NOT NULL GROUP BY ALL",
        [entity_type, leaders],
    )
    counts: dict[str, list[float | None]] = {name: [0.0] * len(buckets) for name in leaders}
    for name, day, n in rows:
        counts[name][index[day]] = float(n)
    codes = {row[0]: row[1] for row in top}

    def display(name: str) -> str:
        code = codes.get(name)
        return f"{_clip(name, 40)} ({code})" if places and code else _clip(name, 40)

    series = [_Series(display(name), PALETTE[i], counts[name]) for i, name in enumerate(leaders)]
    noun, one = ("places", "place") if places else ("people", "person")
    chart = _bucket_line_chart(
        buckets,
        unit,
        series,
        y_title=f"articles per {unit}",
        x_title=f"published_at date, else ingested_at date (per {unit})",
        label=f"Articles per {unit} mentioning the top {len(leaders)} {noun}",
    )
    note = _note(
        f"Articles per {unit} that mention each of the top {_plural(len(leaders), one, noun)} "
        f"(entity_type {entity_type}); below, the top {len(top)} overall."
    )
    if places:
        table = _table(
            ["#", "place", "country", "articles", "mentions"],
            [(i + 1, name, code, n, mentions) for i, (name, code, n, mentions) in enumerate(top)],
        )
    else:
        table = _table(
            ["#", "person", "articles", "mentions"],
            [(i + 1, name, n, mentions) for i, (name, _code, n, mentions) in enumerate(top)],
        )
    legend = _legend([(s.name, s.colour) for s in series])
    return _section(anchor, title, note + chart + legend + table)


def _tone_section(db: _Warehouse, span: _Span | None) -> str:
    title = "Tone"
    if span is None or not db.has("articles", "tone"):
        return _section("tone", title, _note("No tone yet."))
    unit = span.unit
    rows = db.rows(
        f"SELECT date_trunc('{unit}', {WHEN})::DATE, avg(tone), count(tone) FROM articles "
        f"WHERE tone IS NOT NULL AND {WHEN} IS NOT NULL GROUP BY 1"
    )
    if not rows:
        return _section(
            "tone",
            title,
            _note("No article has a tone yet: tone comes with <code>enrichment = full</code>."),
        )
    buckets = span.buckets
    index = {day: i for i, day in enumerate(buckets)}
    means: list[float | None] = [None] * len(buckets)
    for day, mean, _n in rows:
        means[index[day]] = float(mean)
    scored, overall = db.one("SELECT count(tone), avg(tone) FROM articles")
    chart = _bucket_line_chart(
        buckets,
        unit,
        [_Series("mean tone", PALETTE[0], means)],
        y_title="mean tone",
        x_title=f"published_at date, else ingested_at date (per {unit})",
        label=f"Mean tone per {unit}",
    )
    note = _note(
        f"Mean <b>tone</b> per {unit} (positive minus negative words per 100 words, as in GDELT) over "
        f"{_plural(scored, 'article')} with a tone; overall mean {round(overall, 2) + 0.0:+.2f}. "
        f"Gaps are {unit}s without a scored article."
    )
    return _section("tone", f"Tone per {unit}", note + chart)


def _quarantine_section(db: _Warehouse) -> str:
    title = "Quarantine"
    if not db.has("ingested_files"):
        return _section("quarantine", title, _note("No files yet."))
    reason = db.col("ingested_files", "reason")
    quarantined = f"(SELECT {reason} FROM ingested_files WHERE status = 'quarantined')"
    raw = db.rows(
        f"SELECT coalesce(reason, '(no reason given)'), count(*) FROM {quarantined} "
        "GROUP BY 1 ORDER BY 2 DESC, 1"
    )
    if not raw:
        return _section("quarantine", title, _note("No file has been quarantined."))
    total = sum(n for _, n in raw)
    grouped = len(raw) > QUARANTINE_BARS + 3
    if grouped:
        raw = db.rows(
            "SELECT regexp_replace(coalesce(reason, '(no reason given)'), '[0-9]+', 'N', 'g'), count(*) "
            f"FROM {quarantined} GROUP BY 1 ORDER BY 2 DESC, 1"
        )
    bars: list[tuple[str, int]] = list(raw[:QUARANTINE_BARS])
    rest = raw[QUARANTINE_BARS:]
    if rest:
        bars.append((f"{len(rest)} other reasons", sum(n for _, n in rest)))
    chart = _hbar_chart(bars, PALETTE[3], x_title="quarantined files", label="Quarantined files by reason")
    seen_at = db.col("ingested_files", "seen_at")
    recent = db.rows(
        f"SELECT {seen_at}, uri, {reason} FROM ingested_files WHERE status = 'quarantined' "
        f"ORDER BY seen_at DESC NULLS LAST, uri LIMIT {LATEST}"
    )
    note = f"{_plural(total, 'quarantined file')} by reason"
    note += ", numbers in reasons shown as N." if grouped else "."
    table = _table(
        ["seen", "uri", "reason"],
        [(seen, uri, None if why is None else _clip(why, 300)) for seen, uri, why in recent],
        wide=("uri",),
    )
    return _section(
        "quarantine",
        title,
        _note(note) + chart + f"<h3>Most recent quarantined files ({len(recent)})</h3>" + table,
    )


def _time_ticks(low: float, high: float) -> list[tuple[float, str]]:
    steps = [60 * m for m in (1, 5, 15, 30)] + [3600 * h for h in (1, 3, 6, 12)]
    steps += [86400 * d for d in (1, 2, 7, 14, 30, 91, 182, 365, 730, 1825)]
    step = next((s for s in steps if (high - low) / s <= 7), steps[-1])
    fmt = "%m-%d %H:%M" if step < 86400 else "%Y-%m-%d"
    first = math.ceil(low / step) * step
    ticks = []
    value = float(first)
    while value <= high:
        ticks.append((value, (EPOCH + timedelta(seconds=value)).strftime(fmt)))
        value += step
    return ticks


def _runs_section(db: _Warehouse) -> str:
    title = "Ingest runs"
    if not db.has("ingest_runs"):
        return _section("runs", title, _note("No runs yet."))
    duration = (
        "coalesce(duration_seconds, epoch(finished_at - started_at))"
        if db.has("ingest_runs", "duration_seconds")
        else "epoch(finished_at - started_at)"
    )
    points = db.rows(
        f"SELECT * FROM (SELECT started_at, {duration} AS seconds, coalesce(state, '(none)') "
        f"FROM ingest_runs WHERE started_at IS NOT NULL AND {duration} IS NOT NULL "
        f"ORDER BY started_at DESC LIMIT {RUN_POINTS}) ORDER BY started_at"
    )
    columns = ["state", "files_seen", "files_new", "files_unchanged", "articles_written", "duplicates"]
    columns += ["quarantined", "skipped"]
    selected = ", ".join(db.col("ingest_runs", name) for name in columns)
    last = db.rows(
        f"SELECT started_at, {selected}, {duration}, {db.col('ingest_runs', 'error')} FROM ingest_runs "
        f"ORDER BY started_at DESC NULLS LAST LIMIT {LATEST}"
    )
    if not last:
        return _section("runs", title, _note("No runs yet."))
    body = ""
    if points:
        xs = [(started - EPOCH).total_seconds() for started, _, _ in points]
        low, high = min(xs), max(xs)
        pad = max((high - low) * 0.03, 1800.0)
        states = [state for _, _, state in points]
        state_colours = {state: STATE_COLOURS.get(state.lower(), PALETTE[8]) for state in states}
        body += _line_chart(
            xs,
            [_Series("duration (s)", "#c9ced6", [float(seconds) for _, seconds, _ in points])],
            x_domain=(low - pad, high + pad),
            x_ticks=_time_ticks(low - pad, high + pad),
            tips=[f"{_when(started)} · {state}" for started, _, state in points],
            y_title="duration (seconds)",
            x_title="started_at",
            label="Ingest run durations",
            point_colours=[state_colours[state] for state in states],
        )
        body += _legend(sorted(state_colours.items()))
    if points:
        shown = f"each of the last {len(points)} runs" if len(points) == RUN_POINTS else "every run"
        note = _note(
            f"Duration of {shown} over its start time, coloured by state; below, the last "
            f"{_plural(len(last), 'run')}."
        )
    else:
        note = _note(f"No run has a duration yet. The last {_plural(len(last), 'run')}:")
    headers = ["started", "state", "seen", "new", "unchanged", "written", "duplicates", "quarantined"]
    headers += ["skipped", "seconds", "error"]
    rows = [(*row[:-1], None if row[-1] is None else _clip(str(row[-1]), 160)) for row in last]
    return _section("runs", title, note + body + _table(headers, rows))


def _latest_section(db: _Warehouse) -> str:
    title = f"Latest {LATEST} articles"
    if not db.has("articles"):
        return _section("latest", title, _note("No articles yet."))
    rows = db.rows(
        f"SELECT title, source, published_at, uri FROM articles "
        f"ORDER BY {WHEN} DESC NULLS LAST, title LIMIT {LATEST}"
    )
    if not rows:
        return _section("latest", title, _note("No articles yet."))
    note = _note("Newest first, by published_at (ingested_at when unknown).")
    table = _table(
        ["title", "source", "published_at", "uri"],
        [(None if t is None else _clip(t, 200), s, p, u) for t, s, p, u in rows],
        wide=("uri",),
    )
    return _section("latest", title, note + table)


STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f5f8; color: #1f2328;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans",
  sans-serif; }
header { background: #1f3a5f; color: #fff; padding: 20px 0 14px; }
header .inner, main { max-width: 1040px; margin: 0 auto; padding: 0 24px; }
header h1 { margin: 0; font-size: 26px; font-weight: 650; }
header .meta { margin: 4px 0 10px; color: #c8d4e3; font-size: 13px; }
nav a { color: #e6edf5; margin-right: 14px; font-size: 13px; text-decoration: none;
  border-bottom: 1px dotted #9fb3c8; }
main { padding-top: 6px; padding-bottom: 40px; }
section { background: #fff; border: 1px solid #dde2e8; border-radius: 8px; padding: 16px 20px 18px;
  margin: 18px 0; }
h2 { font-size: 19px; margin: 0 0 4px; color: #1f3a5f; }
h3 { font-size: 14px; margin: 18px 0 6px; color: #3b4550; }
p.note { color: #59636e; margin: 2px 0 10px; font-size: 13px; }
.cards + p.note { margin: 10px 0 0; }
p.empty { background: #fff8e1; border: 1px solid #f0d98c; border-radius: 8px; padding: 14px 18px;
  font-size: 15px; margin: 18px 0; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; background: #eef1f4;
  padding: 1px 4px; border-radius: 3px; }
svg.chart { display: block; width: 100%; height: auto; margin: 6px 0 2px; }
svg text { font-family: inherit; font-size: 12px; fill: #3b4048; }
svg .tick { fill: #59636e; font-size: 11px; }
svg .axis-title { fill: #59636e; font-size: 12px; }
svg .value { fill: #3b4048; font-size: 11px; }
svg .grid { stroke: #e8ebef; stroke-width: 1; }
svg .axis { stroke: #9aa4af; stroke-width: 1; }
svg .zero { stroke: #6b7580; stroke-width: 1; stroke-dasharray: 4 3; }
.legend { margin: 4px 0 8px 64px; }
.legend span { display: inline-flex; align-items: center; margin: 0 16px 4px 0; font-size: 13px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 8px; }
th { text-align: left; background: #f3f5f8; border-bottom: 2px solid #d3d9e0; padding: 6px 8px;
  font-weight: 600; white-space: nowrap; }
td { border-bottom: 1px solid #edf0f3; padding: 5px 8px; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.when { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.muted { color: #9aa4af; }
td.uri { word-break: break-all; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11.5px;
  color: #4b5563; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(175px, 1fr)); gap: 12px; }
.card { border: 1px solid #e1e6ec; border-radius: 6px; padding: 10px 12px; background: #fafbfc; }
.card .label { color: #59636e; font-size: 11.5px; text-transform: uppercase; letter-spacing: .05em; }
.card .value { font-size: 26px; font-weight: 650; color: #1f3a5f; line-height: 1.25; }
.card .value.small { font-size: 16px; padding: 5px 0 4px; }
.card .detail { font-size: 12px; color: #59636e; }
"""


def build_report(settings: Settings) -> str:
    """Render the report of what the warehouse in ``settings.data_dir`` holds.

    Args:
        settings: Where the warehouse is.

    Returns:
        One self-contained HTML document: inline CSS and SVG, no script, nothing fetched from elsewhere.

    Raises:
        WarehouseMissingError: The data dir holds no warehouse yet.
    """
    with reader(settings) as con:
        db = _Warehouse(con)
        summary, facts = _summary(db)
        if not any(facts.values()):
            sections = (
                _section("summary", "At a glance", summary)
                + '<p class="empty">Nothing here yet: the warehouse holds no articles, files or runs. '
                "Run <code>newsflow ingest</code> to fill it.</p>"
            )
        else:
            span = _span(db)
            sections = "".join(
                [
                    _section("summary", "At a glance", summary),
                    _articles_section(db, span),
                    _entity_section(db, span, "LOCATION", "places", "Top places"),
                    _entity_section(db, span, "PERSON", "people", "Top people"),
                    _tone_section(db, span),
                    _quarantine_section(db),
                    _runs_section(db),
                    _latest_section(db),
                ]
            )
    generated = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    links = [
        ("summary", "Summary"),
        ("articles", "Articles"),
        ("places", "Places"),
        ("people", "People"),
        ("tone", "Tone"),
        ("quarantine", "Quarantine"),
        ("runs", "Runs"),
        ("latest", "Latest"),
    ]
    nav = "".join(f'<a href="#{anchor}">{name}</a>' for anchor, name in links if f'id="{anchor}"' in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>newsflow report</title><style>{STYLE}</style></head><body>"
        f'<header><div class="inner"><h1>newsflow report</h1>'
        f'<p class="meta">Warehouse {_e(settings.data_dir.resolve())} · generated {_e(generated)}</p>'
        f"<nav>{nav}</nav></div></header>"
        f"<main>{sections}</main></body></html>\n"
    )


def write_report(settings: Settings, output: Path) -> Path:
    """Write the report to ``output``, creating its folder if needed.

    Args:
        settings: Where the warehouse is.
        output: The HTML file to write; replaced if it exists.

    Returns:
        The absolute path of the written file.

    Raises:
        WarehouseMissingError: The data dir holds no warehouse yet.
    """
    document = build_report(settings)
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_text(document, encoding="utf-8")
    partial.replace(output)
    return output
