"""Field reads: which territories a user sees, their active segments, content and members.

Only active versions and live (approved, unexpired) content reach the field
(docs/governance.md).
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.models import Territory
from accounts.permissions import require
from content.selectors import live_mappings
from core.errors import NotFound, PermissionRefused
from customers.models import Customer
from segmentation.models import Segment, SegmentVersion, VersionState


def territories_for_user(*, user) -> QuerySet[Territory]:
    """The territories the user may see: an admin all of them, a field lead their own."""
    require(user, "view_territories")
    if user.has_role("admin"):
        return Territory.objects.order_by("code")
    return user.territories.order_by("code")


def territory_for_user(*, user, code: str) -> Territory:
    """The territory, if the user may see it: admin any, a field lead only their own.

    A field lead asking for a territory that is not theirs gets 403 whether or
    not it exists, so codes cannot be probed.
    """
    visible = territories_for_user(user=user)
    if not user.has_role("admin") and not visible.filter(code=code).exists():
        raise PermissionRefused(f"territory {code} is not assigned to you", path="territory")
    territory = Territory.objects.filter(code=code).first()
    if territory is None:
        raise NotFound(f"no territory {code}")
    return territory


def territory_segments(*, territory_code: str) -> list[dict]:
    """Active segments with their member count in the territory and their live content.

    Member counts are one grouped query (members whose customer's territory is
    the code); content is the approved mappings whose asset is still live.
    """
    versions = (
        SegmentVersion.objects.filter(state=VersionState.ACTIVE)
        .select_related("segment")
        .annotate(
            territory_member_count=Count(
                "members", filter=Q(members__customer__territory_id=territory_code)
            )
        )
        .order_by("segment__key")
    )
    assets_by_segment: dict[int, list[dict]] = {}
    for mapping in live_mappings().select_related("asset").order_by("asset__code"):
        asset = mapping.asset
        assets_by_segment.setdefault(mapping.segment_id, []).append(
            {
                "code": asset.code,
                "title": asset.title,
                "intent": asset.intent,
                "channels": asset.channels,
                "expires_at": asset.expires_at,
                "mapping": mapping.pk,
            }
        )
    return [
        {
            "key": v.segment.key,
            "version": v.number,
            "name": v.name,
            "purpose": v.purpose,
            "therapy_area": v.therapy_area,
            "member_count": v.territory_member_count,
            "assets": assets_by_segment.get(v.segment_id, []),
        }
        for v in versions
    ]


MEMBER_ORDER = ("last_name", "first_name", "npi")


def territory_members(
    *, segment: Segment | str, territory_code: str, channel: str | None = None
) -> QuerySet:
    """Customers in the segment's active version whose territory is the code.

    For the ``email`` channel, customers with ``email_opt_out`` are left out
    (docs/governance.md). No active version: nothing (drafts never reach the field).
    Ordered as the page shows them and the CSV lists them: last name, first name, NPI.
    """
    key = segment.key if isinstance(segment, Segment) else segment
    qs = Customer.objects.filter(
        territory_id=territory_code,
        memberships__version__segment__key=key,
        memberships__version__state=VersionState.ACTIVE,
    ).order_by(*MEMBER_ORDER)
    if channel == "email":
        qs = qs.filter(email_opt_out=False)
    return qs


def territory_segment_assets(*, segment: Segment | str, channel: str | None = None) -> QuerySet:
    """Live content mapped to a segment (optionally usable on ``channel``), for exports."""
    key = segment.key if isinstance(segment, Segment) else segment
    qs = live_mappings().filter(segment__key=key).select_related("asset")
    mappings = list(qs)
    if channel:
        mappings = [m for m in mappings if not m.asset.channels or channel in m.asset.channels]
    return mappings
