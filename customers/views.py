"""Field lead pages: their territories, each with active segments, content and members.

Which territories a user may open, which segments and content reach the field
and who is left out of an email export are decided by ``governance.selectors``;
these views only page, sort and render what they return.
"""

from __future__ import annotations

import csv

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from accounts.mixins import page_permission, sorted_page

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
)


@page_permission("view_territories")
def territory_list(request: HttpRequest) -> HttpResponse:
    """The user's territories (an admin sees all of them)."""
    from governance.selectors import territories_for_user

    territories = territories_for_user(user=request.user)
    return render(request, "customers/territory_list.html", {"territories": territories})


def _members(request: HttpRequest, code: str, segment_key: str | None, channel: str | None):
    from governance.selectors import territory_members

    if not segment_key:
        from customers.models import Customer

        return Customer.objects.none()
    return territory_members(segment=segment_key, territory_code=code, channel=channel)


@page_permission("view_territories")
def territory_detail(request: HttpRequest, code: str) -> HttpResponse:
    """Active segments with counts and approved content; members of one segment."""
    from governance.selectors import territory_for_user, territory_segments

    territory = territory_for_user(user=request.user, code=code)
    segments = territory_segments(territory_code=territory.code)
    keys = [s["key"] for s in segments]
    segment_key = request.GET.get("segment") or (keys[0] if keys else "")
    if segment_key not in keys:
        segment_key = keys[0] if keys else ""
    query = request.GET.get("q", "").strip()
    members = _members(request, territory.code, segment_key, None)
    if query:
        members = members.filter(
            Q(npi__icontains=query) | Q(last_name__icontains=query) | Q(first_name__icontains=query)
        )
    page, sort = sorted_page(
        request,
        members,
        sorts=("npi", "last_name", "specialty", "decile", "state"),
        default="last_name",
    )
    return render(
        request,
        "customers/territory_detail.html",
        {
            "territory": territory,
            "segments": segments,
            "segment_key": segment_key,
            "page_obj": page,
            "sort": sort,
            "q": query,
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@page_permission("view_territories")
def territory_export(request: HttpRequest, code: str) -> HttpResponse:
    """CSV of one active segment's members in the territory; ``channel=email`` drops opt-outs."""
    from governance.selectors import territory_for_user, territory_segments

    territory = territory_for_user(user=request.user, code=code)
    keys = [s["key"] for s in territory_segments(territory_code=territory.code)]
    segment_key = request.GET.get("segment", "")
    if segment_key not in keys:
        from core.errors import ValidationFailed

        raise ValidationFailed(
            f"'{segment_key}' is not an active segment of this territory", path="segment"
        )
    channel = request.GET.get("channel") or None
    members = _members(request, territory.code, segment_key, channel).values_list(
        "npi", "first_name", "last_name", "credential", "specialty", "state", "zip"
    )
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(EXPORT_COLUMNS)
        for row in members.iterator(chunk_size=2000):
            yield writer.writerow([*row, territory.code, segment_key])

    suffix = f"-{channel}" if channel else ""
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{territory.code}-{segment_key}{suffix}.csv"'
    )
    return response
