"""Interactions: engagement funnels per channel over the two years before the anchor."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from .. import catalog
from .hcps import CustomerChunk
from .plan import (
    _INTERACTIONS,
    _SPEC,
    HISTORY_DAYS,
    OTHER_CLINICIAN,
    PHARMACIST,
    DemoPlan,
    _rng,
)

CHANNELS = np.array(
    [
        "email",
        "rep_visit",
        "remote_detail",
        "phone",
        "webinar",
        "portal",
        "congress",
        "speaker_program",
    ],
    dtype=object,
)
_CH = {name: i for i, name in enumerate(CHANNELS)}
_CHANNEL_P = np.array([0.42, 0.18, 0.06, 0.06, 0.07, 0.13, 0.03, 0.05])
KINDS = np.array(
    [
        "sent",
        "opened",
        "clicked",
        "attended",
        "registered",
        "downloaded",
        "visited",
        "requested_info",
        "called",
    ],
    dtype=object,
)
_K = {name: i for i, name in enumerate(KINDS)}
# The first step of each channel's funnel.
_FIRST_KIND = np.array(
    [
        _K["sent"],
        _K["visited"],
        _K["attended"],
        _K["called"],
        _K["registered"],
        _K["visited"],
        _K["attended"],
        _K["registered"],
    ]
)
# UTC hours in which each channel's first step happens (US business hours,
# emails in the morning, portal at any time, dinner speaker programs late).
_HOURS = np.array([(11, 17), (13, 22), (13, 23), (13, 23), (17, 18), (0, 24), (13, 22), (23, 24)])
_FIELD_CHANNELS = np.array([False, True, True, True, True, False, False, True])
# Share of first steps that carry no asset code.
_NO_ASSET = np.array([0.0, 0.4, 0.3, 0.85, 0.2, 0.0, 1.0, 0.5])
TOPICS = np.array(
    [
        "mechanism_of_action",
        "efficacy",
        "safety",
        "dosing",
        "patient_selection",
        "access",
        "patient_support",
        "disease_education",
    ],
    dtype=object,
)
_TOPIC_P = np.array([0.12, 0.22, 0.12, 0.10, 0.10, 0.12, 0.08, 0.14])
ASSET_CODES = np.array([a[0] for a in catalog.DEMO_ASSET_CODES], dtype=object)
# Category lists with "" first: code 0 is a missing (blank) topic or asset.
_BLANK_TOPICS = ["", *TOPICS]
_BLANK_ASSETS = ["", *ASSET_CODES]
_ASSET_TOPIC = np.array([list(TOPICS).index(a[2]) for a in catalog.DEMO_ASSET_CODES])
_AREAS = ("cardiology", "endocrinology", "nephrology")
_ASSET_AREA = np.array([_AREAS.index(a[3]) for a in catalog.DEMO_ASSET_CODES])
# Touchpoints (funnel first steps) per customer before decile and propensity;
# tuned so the average customer has about 20 interaction rows.
TOUCHES_PER_CUSTOMER = 18.2


def _congress_days(plan: DemoPlan) -> np.ndarray:
    """Epoch days of the congresses held in the history window."""
    first = plan.anchor - timedelta(days=HISTORY_DAYS)
    days = [
        (date(year, month, day) - date(1970, 1, 1)).days
        for year in range(first.year, plan.anchor.year + 1)
        for month, day in catalog.CONGRESS_DAYS
        if first <= date(year, month, day) < plan.anchor
    ]
    return np.array(days or [plan.anchor_epoch_day - 1], dtype=np.int64)


def generate_interactions(plan: DemoPlan, chunk: CustomerChunk, index: int) -> pd.DataFrame:
    """Engagement funnels over the two years before the anchor, sorted by customer and time.

    Each touchpoint starts a channel's funnel (email sent -> opened -> clicked,
    webinar and speaker program registered -> attended, portal visited ->
    downloaded / requested_info, rep visit visited -> requested_info, phone
    called -> requested_info, remote detail and congress attended). Higher
    deciles get more touchpoints and open more emails; opted-out customers get
    no email. Columns: customer_id, occurred_at (datetime64, UTC), channel,
    kind, topic, asset (categoricals; "" when missing).
    """
    rng = _rng(plan.seed, _INTERACTIONS, index)
    n = len(chunk.ids)
    decile_weight = np.where(chunk.decile > 0, 0.45 + 0.11 * chunk.decile, 0.7)
    propensity = rng.gamma(2.0, 0.5, n) * (rng.random(n) >= 0.04)  # a few never engage
    profile_weight = np.where(np.isin(chunk.profile, [PHARMACIST, OTHER_CLINICIAN]), 0.6, 1.0)
    touches = rng.poisson(TOUCHES_PER_CUSTOMER * decile_weight * propensity * profile_weight)
    who = np.repeat(np.arange(n), touches)
    m = len(who)

    channel = rng.choice(len(CHANNELS), size=m, p=_CHANNEL_P)
    opted_out = chunk.email_opt_out[who] & (channel == _CH["email"])
    channel[opted_out] = np.where(
        rng.random(opted_out.sum()) < 0.5, _CH["portal"], _CH["rep_visit"]
    )

    # Recent months a little busier than older ones; the span leaves room for
    # moving field work off weekends (up to two days earlier) inside the window.
    days_back = np.floor((HISTORY_DAYS - 2) * rng.random(m) ** 1.25).astype(np.int64)
    day = plan.anchor_epoch_day - 1 - days_back
    congress = channel == _CH["congress"]
    congress_days = _congress_days(plan)
    day[congress] = congress_days[rng.integers(0, len(congress_days), congress.sum())]
    weekday = (day + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    field_channel = _FIELD_CHANNELS[channel]
    day = day - np.where(field_channel & (weekday == 5), 1, 0)
    day = day - np.where(field_channel & (weekday == 6), 2, 0)
    hours = _HOURS[channel]
    seconds = rng.integers(hours[:, 0] * 3600, hours[:, 1] * 3600)
    start = day * 86_400 + seconds

    # Content: customers see their therapy area's assets most of the time.
    area = np.select(
        [chunk.specialty == _SPEC["endocrinology"], chunk.specialty == _SPEC["nephrology"]],
        [1, 2],
        0,
    )[who]
    primary_care = np.isin(
        chunk.specialty[who], [_SPEC["internal_medicine"], _SPEC["family_medicine"]]
    )
    area = np.where(primary_care, rng.choice(3, size=m, p=(0.5, 0.35, 0.15)), area)
    asset = rng.integers(0, len(ASSET_CODES), m)
    for a in range(len(_AREAS)):
        pool = np.flatnonzero(_ASSET_AREA == a)
        mask = (area == a) & (rng.random(m) < 0.8)
        asset[mask] = pool[rng.integers(0, len(pool), mask.sum())]
    no_asset = rng.random(m) < _NO_ASSET[channel]
    topic = np.where(no_asset, rng.choice(len(TOPICS), size=m, p=_TOPIC_P), _ASSET_TOPIC[asset])
    topic = np.where(no_asset & (rng.random(m) < 0.10), -1, topic)
    asset = np.where(no_asset, -1, asset)

    parts = [(np.arange(m), start, _FIRST_KIND[channel])]

    def follow(mask: np.ndarray, after: np.ndarray, kind: str) -> np.ndarray:
        parts.append((np.flatnonzero(mask), after[mask], np.full(mask.sum(), _K[kind])))
        return after

    decile = chunk.decile[who]
    u = rng.random((4, m))
    email = channel == _CH["email"]
    opened = email & (u[0] < 0.22 + 0.025 * decile)
    open_at = follow(opened, start + 60 + rng.exponential(6 * 3600, m).astype(np.int64), "opened")
    follow(
        opened & (u[1] < 0.3), open_at + 30 + rng.exponential(300, m).astype(np.int64), "clicked"
    )
    webinar = channel == _CH["webinar"]
    follow(webinar & (u[0] < 0.55), start + 86_400 * rng.integers(1, 22, m), "attended")
    speaker = channel == _CH["speaker_program"]
    follow(speaker & (u[0] < 0.7), start + 86_400 * rng.integers(3, 31, m), "attended")
    portal = channel == _CH["portal"]
    follow(portal & (u[0] < 0.4), start + rng.integers(30, 900, m), "downloaded")
    follow(portal & (u[1] < 0.04), start + rng.integers(60, 1800, m), "requested_info")
    visit = channel == _CH["rep_visit"]
    follow(visit & (u[2] < 0.07), start + rng.integers(120, 3600, m), "requested_info")
    phone = channel == _CH["phone"]
    follow(phone & (u[3] < 0.1), start + rng.integers(60, 600, m), "requested_info")

    touch = np.concatenate([p[0] for p in parts])
    at = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([p[2] for p in parts])
    keep = at < plan.anchor_epoch_day * 86_400  # follow-ups after the anchor did not happen yet
    touch, at, kind = touch[keep], at[keep], kind[keep]

    # Pack (customer, time, channel, kind, topic, asset) into one int64: sorting
    # orders rows by customer and time, and np.unique drops the rare exact
    # duplicate the natural key of docs/imports.md would refuse.
    base = (plan.anchor_epoch_day - HISTORY_DAYS - 5) * 86_400
    key = (
        (who[touch].astype(np.int64) << 42)
        | ((at - base) << 16)
        | (channel[touch].astype(np.int64) << 13)
        | (kind.astype(np.int64) << 9)
        | ((topic[touch] + 1).astype(np.int64) << 5)
        | (asset[touch] + 1).astype(np.int64)
    )
    _, first = np.unique(key, return_index=True)
    touch, at, kind = touch[first], at[first], kind[first]
    return pd.DataFrame(
        {
            "customer_id": chunk.ids[who[touch]],
            "occurred_at": at.astype("datetime64[s]"),
            "channel": pd.Categorical.from_codes(channel[touch], CHANNELS),
            "kind": pd.Categorical.from_codes(kind, KINDS),
            "topic": pd.Categorical.from_codes(topic[touch] + 1, _BLANK_TOPICS),
            "asset": pd.Categorical.from_codes(asset[touch] + 1, _BLANK_ASSETS),
        }
    )
