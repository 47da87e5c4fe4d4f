"""Server-rendered SVG geometry for the measurement charts (docs/activation.md, "Measurement").

Pure computation: a measurement answer in, coordinates and tick labels out. The
templates (``activation/partials/line_chart.html`` and ``interval_chart.html``)
draw them; only numbers and our own labels reach the SVG, escaped by Django.
Every chart has labelled axes with units and shows zero: line charts start
their value axis at 0, interval charts draw a labelled line at 0.
"""

from __future__ import annotations

WIDTH, HEIGHT = 560, 230
LEFT, RIGHT, TOP, BOTTOM = 60, 16, 30, 46
ROW = 34


def _scale(value: float, low: float, high: float, out_low: float, out_high: float) -> float:
    if high == low:
        return (out_low + out_high) / 2
    return out_low + (value - low) * (out_high - out_low) / (high - low)


def _label(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"


def line_chart(
    points: list[dict],
    *,
    x_key: str,
    lines: dict[str, str],
    x_label: str,
    y_label: str,
    title: str,
    marker: tuple[float, str] | None = None,
) -> dict | None:
    """Polylines of ``lines`` (value key -> css class) against ``x_key``; the value axis
    runs from 0. Points without a value are left out of their line."""
    values = [p[k] for p in points for k in lines if p.get(k) is not None]
    if not points or not values:
        return None
    top = max(max(values), 0.0) or 1.0
    top *= 1.1
    xs = [p[x_key] for p in points]
    x_low, x_high = min(xs), max(max(xs), min(xs) + 1)
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def x_at(x: float) -> float:
        return round(_scale(x, x_low, x_high, LEFT, right), 1)

    def y_at(y: float) -> float:
        return round(_scale(y, 0.0, top, bottom, TOP), 1)

    polylines = {
        css: " ".join(f"{x_at(p[x_key])},{y_at(p[key])}" for p in points if p.get(key) is not None)
        for key, css in lines.items()
    }
    step = max(1, round((x_high - x_low) / 8))
    chart = {
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": right,
        "top": TOP,
        "bottom": bottom,
        "lines": [{"css": css, "points": pts} for css, pts in polylines.items()],
        "x_ticks": [
            {"x": x_at(x), "label": str(int(x))} for x in range(int(x_low), int(x_high) + 1, step)
        ],
        "y_ticks": [{"y": y_at(v), "label": _label(v)} for v in (0.0, top / 2, top)],
        "x_label": x_label,
        "y_label": y_label,
        "x_label_x": (LEFT + right) / 2,
        "x_label_y": HEIGHT - 8,
        "y_label_y": 14,
        "marker": None,
        **polylines,
    }
    if marker is not None and x_low <= marker[0] <= x_high:
        chart["marker"] = {"x": x_at(marker[0]), "label": marker[1]}
    return chart


def weekly_chart(measurement: dict) -> dict | None:
    """Weekly interactions per customer on the channel since entry: sent and holdout."""
    return line_chart(
        measurement.get("weekly") or [],
        x_key="week",
        lines={"sent_channel": "sent", "holdout_channel": "holdout"},
        x_label="weeks since entry",
        y_label=f"{measurement.get('channel', '')} interactions per customer per week",
        title=(
            f"Weekly {measurement.get('channel', '')} interactions per customer after entry, "
            "sent versus holdout"
        ),
    )


def rx_chart(measurement: dict) -> dict | None:
    """Monthly TRx per customer by month since the entry month: sent and holdout."""
    rx = measurement.get("rx") or {}
    products = " and ".join(rx.get("products") or []) or "all products"
    return line_chart(
        rx.get("months") or [],
        x_key="offset",
        lines={"sent_trx": "sent", "holdout_trx": "holdout"},
        x_label="months since the entry month (0)",
        y_label=f"{products} TRx per customer per month",
        title=f"Monthly {products} TRx per customer before and after entry, sent versus holdout",
        marker=(0, "entry"),
    )


def interval_chart(lift: dict | None, labels: dict[str, str], *, unit: str, title: str) -> dict:
    """One row per estimate: the point and its 95% interval on one axis with zero marked."""
    present = [(k, row) for k, row in (lift or {}).items() if row is not None and k in labels]
    if not present:
        return {"rows": []}
    bounds = [v for _, row in present for v in (row["low"], row["high"])] + [0.0]
    low, high = min(bounds), max(bounds)
    span = (high - low) or 1.0
    low, high = low - span * 0.1, high + span * 0.1
    plot_left, right = 150, WIDTH - RIGHT

    def x_at(x: float) -> float:
        return round(_scale(x, low, high, plot_left, right), 1)

    rows = []
    for i, (kind, row) in enumerate(present):
        rows.append(
            {
                "label": labels[kind],
                "y": 20 + i * ROW,
                "x_low": x_at(row["low"]),
                "x_high": x_at(row["high"]),
                "x_est": x_at(row["estimate"]),
                "x_zero": x_at(0.0),
                "estimate": row["estimate"],
                "low": row["low"],
                "high": row["high"],
            }
        )
    axis_y = 20 + len(rows) * ROW - 10
    # Zero and the interval's ends; an end too close to zero would print over it.
    ticks = [0.0] + [v for v in (min(bounds), max(bounds)) if v and abs(v) > 0.12 * (high - low)]
    return {
        "title": title,
        "rows": rows,
        "width": WIDTH,
        "height": axis_y + 52,
        "plot_left": plot_left,
        "right": right,
        "axis_y": axis_y,
        "zero_x": x_at(0.0),
        "ticks": [{"x": x_at(v), "label": _label(v)} for v in sorted(set(ticks))],
        "caption": "lift, sent minus holdout, with its 95% interval; the dashed line marks 0",
        "unit": unit,
        "unit_x": (plot_left + right) / 2,
        "unit_y": axis_y + 30,
        "caption_y": axis_y + 44,
        "top": 6,
    }


def lift_chart(measurement: dict) -> dict:
    """The engagement lifts (channel, all channels) with their intervals."""
    return interval_chart(
        measurement.get("lift"),
        {"channel": "on the channel", "all": "on all channels"},
        unit="interactions per customer per week",
        title="Lift with 95% confidence interval",
    )


def rx_lift_chart(measurement: dict) -> dict:
    """The prescribing lifts (difference in differences) with their intervals."""
    return interval_chart(
        (measurement.get("rx") or {}).get("lift"),
        {"nrx": "NRx", "trx": "TRx"},
        unit="prescriptions per customer per month (difference in differences)",
        title="Prescribing lift with 95% confidence interval",
    )
