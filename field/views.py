"""Field lead pages: their territories, each with active segments, content and members.

Which territories a user may open, which segments and content reach the field
and who is left out of an email export are decided by ``field.selectors``;
these views only page, sort and render what they return.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.mixins import page_permission, sorted_page
from core.csv import csv_response
from core.errors import ValidationFailed
from core.time import iso_z
from customers.models import Customer

from . import selectors

EXPORT_COLUMNS = (
    "npi",
    "first_name",
    "last_name",
    "credential",
    "specialty",
    "state",
    "zip",
    "territory",
    "segment",
    "entered_at",
    "last_interaction",
)
# An account segment's export: its member accounts in the territory.
ACCOUNT_EXPORT_COLUMNS = (
    "account_id",
    "name",
    "account_type",
    "state",
    "zip",
    "territory",
    "segment",
    "entered_at",
)


@page_permission("view_territories")
def territory_list(request: HttpRequest) -> HttpResponse:
    """The user's territories (an admin sees all of them)."""

    territories = list(selectors.territories_for_user(user=request.user))
    overview = selectors.territory_overview(territories=territories)
    return render(request, "field/territory_list.html", {"overview": overview})


def _members(request: HttpRequest, code: str, segment_key: str | None, channel: str | None):

    if not segment_key:
        return Customer.objects.none()
    return selectors.territory_members(segment=segment_key, territory_code=code, channel=channel)


@page_permission("view_territories")
def territory_detail(request: HttpRequest, code: str) -> HttpResponse:
    """Active segments with counts and approved content; members of one segment."""

    territory = selectors.territory_for_user(user=request.user, code=code)
    segments = selectors.territory_segments(territory_code=territory.code)
    units = {s["key"]: s["unit"] for s in segments}
    keys = list(units)
    segment_key = request.GET.get("segment") or (keys[0] if keys else "")
    if segment_key not in keys:
        segment_key = keys[0] if keys else ""
    query = request.GET.get("q", "").strip()
    account_unit = units.get(segment_key) == "account"
    if account_unit:
        members = selectors.territory_member_accounts(
            segment=segment_key, territory_code=territory.code
        )
        if query:
            members = members.filter(Q(account_id__icontains=query) | Q(name__icontains=query))
    else:
        members = _members(request, territory.code, segment_key, None)
        if query:
            members = members.filter(
                Q(npi__icontains=query)
                | Q(last_name__icontains=query)
                | Q(first_name__icontains=query)
            )
    # "New this week" opens the people (or accounts) who entered in the last 7 days.
    new_only = request.GET.get("new") == "1"
    if new_only:
        members = members.filter(entered_at__gte=timezone.now() - timedelta(days=7))
    if account_unit:
        page, sort = sorted_page(
            request,
            members,
            sorts=("account_id", "name", "account_type", "state", "entered_at"),
            default="name",
            then={"name": selectors.ACCOUNT_ORDER[1:]},
        )
    else:
        page, sort = sorted_page(
            request,
            members,
            sorts=(
                "npi",
                "last_name",
                "specialty",
                "decile",
                "state",
                "entered_at",
                "last_interaction",
            ),
            default="last_name",
            then={"last_name": selectors.MEMBER_ORDER[1:]},
        )
    return render(
        request,
        "field/territory_detail.html",
        {
            "territory": territory,
            "segments": segments,
            "segment_key": segment_key,
            "account_unit": account_unit,
            "accounts": selectors.territory_accounts(territory_code=territory.code),
            "page_obj": page,
            "sort": sort,
            "q": query,
            "new_only": new_only,
        },
    )


@page_permission("view_territories")
def territory_export(request: HttpRequest, code: str) -> HttpResponse:
    """CSV of one active segment's members in the territory; ``channel=email`` drops opt-outs.

    An account segment's CSV lists its member accounts in the territory (opt-outs are a
    customer's, so ``channel`` changes nothing there)."""
    territory = selectors.territory_for_user(user=request.user, code=code)
    units = selectors.active_segment_units()
    segment_key = request.GET.get("segment", "")
    if segment_key not in units:
        raise ValidationFailed(
            f"'{segment_key}' is not an active segment of this territory", path="segment"
        )
    channel = request.GET.get("channel") or None
    suffix = f"-{channel}" if channel else ""
    if units[segment_key] == "account":
        accounts = selectors.territory_member_accounts(
            segment=segment_key, territory_code=territory.code
        ).values_list("account_id", "name", "account_type", "state", "zip", "entered_at")
        return csv_response(
            header=ACCOUNT_EXPORT_COLUMNS,
            rows=(
                [*row[:5], territory.code, segment_key, iso_z(row[5]) if row[5] else ""]
                for row in accounts.iterator(chunk_size=2000)
            ),
            filename=f"{territory.code}-{segment_key}{suffix}.csv",
        )
    members = _members(request, territory.code, segment_key, channel).values_list(
        "npi",
        "first_name",
        "last_name",
        "credential",
        "specialty",
        "state",
        "zip",
        "entered_at",
        "last_interaction",
    )
    return csv_response(
        header=EXPORT_COLUMNS,
        rows=(
            [*row[:7], territory.code, segment_key, *(iso_z(m) if m else "" for m in row[7:])]
            for row in members.iterator(chunk_size=2000)
        ),
        filename=f"{territory.code}-{segment_key}{suffix}.csv",
    )
