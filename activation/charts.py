"""Server-rendered SVG geometry for the measurement chart (docs/activation.md, "Pages").

Pure computation: a measurement answer in, coordinates out. The template draws
them; only numbers reach the SVG, so nothing needs escaping beyond Django's own.
"""

from __future__ import annotations

WIDTH, HEIGHT, PAD = 520, 200, 36
LIFT_WIDTH, LIFT_HEIGHT = 520, 90


def _scale(value: float, low: float, high: float, out_low: float, out_high: float) -> float:
    if high == low:
        return (out_low + out_high) / 2
    return out_low + (value - low) * (out_high - out_low) / (high - low)


def weekly_chart(measurement: dict) -> dict | None:
    """Polylines of weekly interactions per customer on the channel: sent and holdout."""
    weekly = measurement.get("weekly") or []
    if not weekly:
        return None
    values = [p[k] for p in weekly for k in ("sent_channel", "holdout_channel") if p[k] is not None]
    top = max(values + [0.1])
    last = max(len(weekly) - 1, 1)

    def points(key: str) -> str:
        return " ".join(
            f"{_scale(p['week'], 0, last, PAD, WIDTH - 10):.1f},"
            f"{_scale(p[key] or 0, 0, top, HEIGHT - PAD, 10):.1f}"
            for p in weekly
        )

    return {
        "width": WIDTH,
        "height": HEIGHT,
        "pad": PAD,
        "sent": points("sent_channel"),
        "holdout": points("holdout_channel"),
        "top": round(top, 3),
        "weeks": len(weekly),
        "x_axis_y": HEIGHT - PAD,
        "label_y": HEIGHT - 12,
    }


def lift_chart(measurement: dict) -> list[dict]:
    """One row per lift (channel, all channels): the estimate and its interval on one axis."""
    lift = measurement.get("lift")
    if not lift:
        return []
    bounds = [v for row in lift.values() for v in (row["low"], row["high"], 0.0)]
    low, high = min(bounds), max(bounds)
    span = (high - low) or 1.0
    low, high = low - span * 0.1, high + span * 0.1
    rows = []
    for i, (kind, row) in enumerate(lift.items()):
        y = 25 + i * 35
        rows.append(
            {
                "label": "on the channel" if kind == "channel" else "on all channels",
                "y": y,
                "x_low": round(_scale(row["low"], low, high, 130, LIFT_WIDTH - 10), 1),
                "x_high": round(_scale(row["high"], low, high, 130, LIFT_WIDTH - 10), 1),
                "x_est": round(_scale(row["estimate"], low, high, 130, LIFT_WIDTH - 10), 1),
                "estimate": row["estimate"],
                "low": row["low"],
                "high": row["high"],
            }
        )
    zero = round(_scale(0.0, low, high, 130, LIFT_WIDTH - 10), 1)
    for row in rows:
        row["x_zero"] = zero
    return rows
