"""How segments look to people: rules in plain English, version diffs, small SVG charts.

Pure functions (data in, text/markup out); no queries except ``field_labels``,
which reads the rules package's catalog. Nothing here decides membership.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .rules import field_catalog

OP_WORDS = {
    "eq": "is",
    "ne": "is not",
    "in": "is",
    "not_in": "is not",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between",
    "contains": "contains",
    "is_set": "is set",
    "is_not_set": "is not set",
}
CMP_WORDS = {
    "eq": "exactly",
    "ne": "other than",
    "gt": "more than",
    "gte": "at least",
    "lt": "fewer than",
    "lte": "at most",
}
METRIC_WORDS = {"nrx": "new prescriptions", "trx": "total prescriptions"}


def field_labels() -> dict[str, str]:
    """Catalog labels by path."""
    labels = {}
    for spec in field_catalog():
        data = spec.as_dict() if hasattr(spec, "as_dict") else dict(spec)
        labels[data["path"]] = data.get("label") or data["path"]
    return labels


def _label(path: str, labels: dict[str, str]) -> str:
    label = labels.get(path) or path.replace("attr.", "attribute ").replace("_", " ")
    # Mid-sentence: "decile", not "Decile"; acronyms such as "NPI" stay as they are.
    if label[:1].isupper() and label[1:2].islower():
        label = label[0].lower() + label[1:]
    return label


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.replace("_", " ") if value.islower() else value
    return str(value)


def _join(values: Sequence[Any], word: str) -> str:
    items = [_value(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _describe_field(node: dict, labels: dict[str, str]) -> str:
    label = _label(str(node.get("field")), labels)
    op = node.get("op")
    value = node.get("value")
    if op in ("is_set", "is_not_set"):
        return f"{label} {OP_WORDS[op]}"
    if op == "in" and isinstance(value, list):
        return f"{label} is {_join(value, 'or')}"
    if op == "not_in" and isinstance(value, list):
        return f"{label} is not {_join(value, 'or')}"
    if op == "between" and isinstance(value, list) and len(value) == 2:
        return f"{label} is between {_value(value[0])} and {_value(value[1])}"
    if op == "contains":
        return f'{label} contains "{value}"'
    return f"{label} {OP_WORDS.get(op, str(op))} {_value(value)}"


def _describe_cmp(cmp: dict | None, noun: str) -> str:
    cmp = cmp or {"op": "gte", "value": 1}
    op, value = cmp.get("op"), cmp.get("value")
    if op == "eq" and value == 0:
        return f"no {noun}s"
    plural = "" if value == 1 and op in ("eq", "gte", "lte") else "s"
    return f"{CMP_WORDS.get(op, op)} {value} {noun}{plural}"


def _describe_event(node: dict) -> str:
    keys = node.get("event") or {}
    what = " and ".join(f"{k} {_value(v)}" for k, v in keys.items())
    text = "had " + _describe_cmp(node.get("count"), "interaction")
    if what:
        text += f" with {what}"
    days = node.get("within_days")
    text += f" in the last {days} days" if days else " ever"
    return text


def _describe_rx(node: dict) -> str:
    product = (node.get("rx") or {}).get("product")
    metric = node.get("metric", "")
    metric_words = METRIC_WORDS.get(metric, str(metric).replace("_", " "))
    months = node.get("months")
    window = f"over the last {months} months" if months else "to date"
    cmp = node.get("sum") or {}
    return (
        f"{metric_words} of {product or 'all products'} {window} add up to "
        f"{CMP_WORDS.get(cmp.get('op'), cmp.get('op'))} {cmp.get('value')}"
    )


def describe_rule(rule: Any, labels: dict[str, str] | None = None, *, _nested: bool = False) -> str:
    """The rule as one English sentence, e.g. "specialty is cardiology or endocrinology, and
    decile is at least 7". Nested groups are parenthesised so the meaning stays unambiguous."""
    if labels is None:
        labels = field_labels()
    if rule is None:
        return "nobody (no rule)"
    if not isinstance(rule, dict):
        return str(rule)
    if "all" in rule:
        parts = [describe_rule(r, labels, _nested=True) for r in rule["all"] or []]
        if not parts:
            return "everyone"
        text = ", and ".join(parts) if len(parts) > 1 else parts[0]
        return f"({text})" if _nested and len(parts) > 1 else text
    if "any" in rule:
        parts = [describe_rule(r, labels, _nested=True) for r in rule["any"] or []]
        if not parts:
            return "nobody"
        text = ", or ".join(parts) if len(parts) > 1 else parts[0]
        return f"(either {text})" if len(parts) > 1 else text
    if "not" in rule:
        return f"not ({describe_rule(rule['not'], labels)})"
    if "field" in rule:
        return _describe_field(rule, labels)
    if "event" in rule:
        return _describe_event(rule)
    if "rx" in rule:
        return _describe_rx(rule)
    if "segment" in rule:
        return f'is a member of segment "{rule["segment"]}"'
    if "account_segment" in rule:
        return f'has an affiliated account in account segment "{rule["account_segment"]}"'
    if "members" in rule:
        return _describe_members(rule, labels)
    if "coverage" in rule:
        return _describe_coverage(rule)
    return json.dumps(rule)


def _describe_members(node: dict, labels: dict[str, str]) -> str:
    """An account's affiliated customers: "has at least 2 affiliated customers matching (...)"."""
    inner = describe_rule(node.get("members"), labels)
    parts = []
    if "count" in node or "share" not in node:
        parts.append(_describe_cmp(node.get("count"), "affiliated customer"))
    share = node.get("share")
    if isinstance(share, dict):
        words = CMP_WORDS.get(share.get("op"), share.get("op"))
        parts.append(f"a share of {words} {_value(share.get('value'))} of its affiliated customers")
    return f"has {' and '.join(parts)} matching ({inner})"


def _describe_coverage(node: dict) -> str:
    """A payer's coverage row: "covers CARDIOZEN with status prior auth or covered"."""
    product = (node.get("coverage") or {}).get("product") or "the product"
    text = f"has coverage of {product}"
    status = node.get("status")
    if isinstance(status, dict) and isinstance(status.get("value"), list):
        verb = "is not" if status.get("op") == "not_in" else "is"
        text += f" whose status {verb} {_join(status['value'], 'or')}"
    lives = node.get("lives")
    if isinstance(lives, dict):
        text += f" for {CMP_WORDS.get(lives.get('op'), lives.get('op'))} {lives.get('value')}"
        text += " covered lives"
    return text


# --- version diffs --------------------------------------------------------------

DIFF_FIELDS = (
    "name",
    "description",
    "purpose",
    "therapy_area",
    "indications",
    "parent",
    "entry_rule",
    "exit_rule",
)


def version_document(version) -> str:
    """A version's definition as stable pretty-printed text, for diffing."""
    if version is None:
        return ""
    doc = {}
    for name in DIFF_FIELDS:
        value = getattr(version, name, None)
        if name == "parent":
            value = getattr(value, "key", None)
        doc[name] = value
    if getattr(getattr(version, "segment", None), "unit", "customer") == "account":
        doc["rollup"] = getattr(version, "rollup", None)  # signed with the account rules
    return json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "hunk", "same"
    text: str


def version_diff(old, new) -> list[DiffLine]:
    """Unified diff between two versions' definitions (old may be None), with the whole
    document as context so it never starts in the middle of an object."""
    a = version_document(old).splitlines()
    b = version_document(new).splitlines()
    lines = []
    context = max(len(a), len(b))
    for line in difflib.unified_diff(a, b, "before", "after", lineterm="", n=context):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        lines.append(DiffLine(kind, line))
    return lines


# --- inline SVG charts (server-rendered; no chart library) ------------------------


def bars(groups: dict[str, list[tuple[str, int]]]) -> list[dict]:
    """Groups of (label, n) as rows for small horizontal bars: width relative to the largest."""
    out = []
    for name, items in groups.items():
        top = max((n for _, n in items), default=0) or 1
        out.append({"name": name, "bars": [(label, n, round(100 * n / top)) for label, n in items]})
    return out


PALETTE = ("#1f5fae", "#1c7c43", "#a12b2b", "#8a5a00", "#6a3fa0", "#0f7c86", "#b3478a", "#555")


def sparkline(values: Sequence[float], *, width: int = 110, height: int = 24) -> SafeString:
    """A tiny line of a series (oldest first). Empty series: an empty string."""
    if not values:
        return mark_safe("")
    if len(values) == 1:
        values = [values[0], values[0]]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1
    step = (width - 4) / (len(values) - 1)
    points = " ".join(
        f"{2 + i * step:.1f},{height - 2 - (v - lo) / span * (height - 4):.1f}"
        for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="spark" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
        'aria-label="size over time, from {} to {}"><polyline fill="none" stroke="#1f5fae" '
        'stroke-width="1.5" points="{}"/></svg>',
        width,
        height,
        width,
        height,
        values[0],
        values[-1],
        points,
    )


def nice_ticks(hi: float, count: int = 4) -> list[int]:
    """Round y-axis ticks from 0 to at least ``hi`` (0, 25, 50, 75, 100...)."""
    hi = max(hi, 1)
    raw = hi / count
    magnitude = 10 ** max(len(str(int(raw))) - 1, 0)
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    top = int(-(-hi // step) * step)
    return list(range(0, top + 1, step))


def _x_labels(xs: list[str], xpos, at_y: float) -> SafeString:
    """About five evenly spaced x labels (first and last included)."""
    n = len(xs)
    picks = sorted({0, n - 1, *(round(i * (n - 1) / 4) for i in range(1, 4))}) if n > 1 else [0]
    anchors = {0: "start", n - 1: "end"}
    return format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="{}" class="tick">{}</text>',
        (
            (
                round(xpos(i), 1),
                at_y,
                anchors.get(i, "middle"),
                xs[i][5:] if len(xs[i]) == 10 else xs[i],
            )
            for i in picks
        ),
    )


def _axes(ticks, y, unit: str, xs: list[str], xpos, *, box: tuple, note: str) -> SafeString:
    """Both axes of a daily chart: y ticks with the unit, the baseline, dated x labels
    and the "day (UTC)" caption (``note`` follows it). ``box``: left, top, width,
    height, plot width and plot height."""
    left, top, width, height, plot_w, plot_h = box
    return (
        _y_axis(ticks, y, left, width - 8, unit)
        + format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#888"/>',
            left,
            top + plot_h,
            width - 8,
            top + plot_h,
        )
        + _x_labels(xs, xpos, top + plot_h + 14)
        + format_html(
            '<text x="{}" y="{}" text-anchor="middle" class="unit">day (UTC){}</text>',
            left + plot_w / 2,
            height - 2,
            note,
        )
    )


def _y_axis(ticks: list[int], y, left: int, right: int, unit: str) -> SafeString:
    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#e3e6ea"/>'
        '<text x="{}" y="{}" text-anchor="end" class="tick">{}</text>',
        (
            (left, round(y(t), 1), right, round(y(t), 1), left - 4, round(y(t), 1) + 4, f"{t:,}")
            for t in ticks
        ),
    )
    return grid + format_html('<text x="2" y="10" class="unit">{}</text>', unit)


def line_chart(
    series: dict[str, list[tuple[str, float]]],
    *,
    width: int = 640,
    height: int = 220,
    label: str = "chart",
    unit: str = "members",
) -> SafeString:
    """Several series of (x label, value) on one shared x axis of sorted labels, with a
    labelled y axis (ticks from 0) and about five dated x ticks."""
    xs = sorted({x for points in series.values() for x, _ in points})
    if not xs:
        return mark_safe("")
    values = [v for points in series.values() for _, v in points]
    ticks = nice_ticks(max(values))
    hi = ticks[-1] or 1
    left, bottom, top = 52, 34, 18
    plot_w, plot_h = width - left - 8, height - bottom - top
    step = plot_w / max(len(xs) - 1, 1)
    xpos = {x: left + i * step for i, x in enumerate(xs)}

    def y(v: float) -> float:
        return top + plot_h - (v / hi) * plot_h

    lines, dots = [], []
    for i, (name, points) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{xpos[x]:.1f},{y(v):.1f}" for x, v in sorted(points))
        lines.append((colour, pts, name))
        # Dots make single-day series visible and give each point a tooltip.
        dots.extend(
            (round(xpos[x], 1), round(y(v), 1), colour, f"{name} {x}: {int(v)}") for x, v in points
        )
    body = format_html_join(
        "",
        '<polyline fill="none" stroke="{}" stroke-width="1.6" points="{}"><title>{}</title>'
        "</polyline>",
        lines,
    ) + format_html_join(
        "", '<circle cx="{}" cy="{}" r="2.5" fill="{}"><title>{}</title></circle>', dots
    )
    axis = _axes(
        ticks,
        y,
        unit,
        xs,
        lambda i: left + i * step,
        box=(left, top, width, height, plot_w, plot_h),
        note="",
    )
    return format_html(
        '<svg class="chart" width="100%" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}</svg>',
        width,
        height,
        label,
        axis,
        body,
    )


def spike_cap(values: list[float]) -> float | None:
    """A scale for bars when one value dwarfs the rest (a spike would flatten every other
    day): 1.25 times the second largest, when the largest is over 3 times it; else None."""
    ordered = sorted(values, reverse=True)
    if len(ordered) < 3 or ordered[1] <= 0 or ordered[0] <= 3 * ordered[1]:
        return None
    return ordered[1] * 1.25


def bar_chart(
    rows: list[tuple[str, float, float]],
    *,
    width: int = 640,
    height: int = 200,
    label: str = "chart",
    unit: str = "customers per day",
) -> SafeString:
    """Paired bars per x label: (label, up, down), e.g. entries and exits per day.

    A spike is cut at a scale the other days can be read on, marked with a break and
    its value written above it (the exact numbers are in the page's table too)."""
    if not rows:
        return mark_safe("")
    values = [v for _, a, b in rows for v in (a, b)]
    cap = spike_cap(values)
    ticks = nice_ticks(cap if cap else max(values))
    hi = ticks[-1] or 1
    left, bottom, top = 52, 34, 22
    plot_w, plot_h = width - left - 8, height - bottom - top
    slot = plot_w / len(rows)
    bar = min(max(slot / 2 - 1, 1), 14)

    def y(v: float) -> float:
        return top + plot_h - (min(v, hi) / hi) * plot_h

    rects, breaks = [], []
    for i, (x, a, b) in enumerate(rows):
        x0 = left + i * slot
        pairs = ((a, "#1c7c43", "entered"), (b, "#a12b2b", "exited"))
        for j, (v, colour, what) in enumerate(pairs):
            h = min(v, hi) / hi * plot_h
            bx = round(x0 + j * bar, 1)
            rects.append(
                (
                    bx,
                    round(top + plot_h - h, 1),
                    round(bar, 1),
                    round(h, 1),
                    colour,
                    f"{x}: {int(v)} {what}",
                )
            )
            if v > hi:
                breaks.append((bx, top + 6, round(bar, 1), bx + bar / 2, top - 4, f"{int(v):,}"))
    body = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
        rects,
    ) + format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="3" fill="#fff"/>'
        '<text x="{}" y="{}" text-anchor="middle" class="tick">{}</text>',
        breaks,
    )
    axis = _axes(
        ticks,
        y,
        unit,
        [r[0] for r in rows],
        lambda i: left + i * slot + bar,
        box=(left, top, width, height, plot_w, plot_h),
        note=" · tallest bars cut, their value above them" if breaks else "",
    )
    return format_html(
        '<svg class="chart" width="100%" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}</svg>',
        width,
        height,
        label,
        axis,
        body,
    )
