"""Field reads: which territories a user sees, their active segments, content and members.

Only active versions and live (approved, unexpired) content reach the field
(docs/governance.md).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Territory
from accounts.permissions import require
from content.selectors import live_mappings
from core.errors import NotFound, PermissionRefused
from customers.models import Account, Customer, Interaction
from segmentation.models import (
    AccountMembershipSpell,
    Membership,
    Segment,
    SegmentVersion,
    Unit,
    VersionState,
)


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


def _week_ago():
    return timezone.now() - timedelta(days=7)


def _member_counts(codes: list[str]) -> list[tuple[str, str, int, int, int]]:
    """(unit, territory code, version id, members, entered in the last seven days) of the
    active versions in the territories ``codes``: one grouped query per unit.

    A customer segment counts its member customers whose territory is the code; an
    account segment its member accounts whose territory is the code. Grouped from the
    territories' members, not counted per version over every membership (that joins
    all 2M open spells to the customers: 3.3 s at 1M customers, bench/README.md,
    "Pages, one person at a time").
    """
    week_ago = _week_ago()
    customer_rows = (
        Membership.objects.filter(
            version__state=VersionState.ACTIVE, customer__territory_id__in=codes
        )
        .values_list("customer__territory_id", "version_id")
        .annotate(members=Count("id"), new=Count("id", filter=Q(entered_at__gte=week_ago)))
        .order_by()
    )
    account_rows = (
        AccountMembershipSpell.objects.filter(
            exited_as_of__isnull=True,
            version__state=VersionState.ACTIVE,
            account__territory_id__in=codes,
        )
        .values_list("account__territory_id", "version_id")
        .annotate(members=Count("id"), new=Count("id", filter=Q(entered_as_of__gte=week_ago)))
        .order_by()
    )
    return [
        (unit, *row)
        for unit, rows in ((Unit.CUSTOMER, customer_rows), (Unit.ACCOUNT, account_rows))
        for row in rows
    ]


def territory_overview(*, territories) -> list[dict]:
    """Each territory with, per active segment, its members there and how many entered in
    the last seven days (``_member_counts``; ``unit`` says what is counted). Segments
    are ordered by key."""
    codes = [t.code for t in territories]
    rows = _member_counts(codes)
    versions = SegmentVersion.objects.select_related("segment").in_bulk(
        {version_id for _, _, version_id, _, _ in rows}
    )
    by_code: dict[str, list[dict]] = {code: [] for code in codes}
    for unit, code, version_id, members, new in rows:
        version = versions[version_id]
        by_code[code].append(
            {
                "key": version.segment.key,
                "name": version.name,
                "unit": unit,
                "members": members,
                "new_this_week": new,
            }
        )
    return [
        {"territory": t, "segments": sorted(by_code[t.code], key=lambda s: s["key"])}
        for t in territories
    ]


def active_segment_units() -> dict[str, str]:
    """Each active segment's key and unit: what a territory's export may list, without the
    counts ``territory_segments`` adds."""
    return dict(
        SegmentVersion.objects.filter(state=VersionState.ACTIVE).values_list(
            "segment__key", "segment__unit"
        )
    )


def territory_segments(*, territory_code: str) -> list[dict]:
    """Active segments with their member count in the territory and their live content.

    Member counts are ``_member_counts``; content is the approved mappings whose
    asset is still live.
    """
    active = SegmentVersion.objects.filter(state=VersionState.ACTIVE).select_related("segment")
    counts = {version_id: (n, new) for _, _, version_id, n, new in _member_counts([territory_code])}
    versions = sorted(active, key=lambda v: v.segment.key)
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
            "unit": v.segment.unit,
            "version": v.number,
            "name": v.name,
            "purpose": v.purpose,
            "therapy_area": v.therapy_area,
            "member_count": counts.get(v.pk, (0, 0))[0],
            "new_this_week": counts.get(v.pk, (0, 0))[1],
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
    # After the filter, the aggregate reads the same (filtered) membership join.
    qs = qs.annotate(
        entered_at=Max("memberships__entered_at"),
        last_interaction=Subquery(
            Interaction.objects.filter(customer=OuterRef("pk"))
            .order_by("-occurred_at")
            .values("occurred_at")[:1]
        ),
    )
    if channel == "email":
        qs = qs.filter(email_opt_out=False)
    return qs


ACCOUNT_ORDER = ("name", "account_id")


def territory_member_accounts(*, segment: Segment | str, territory_code: str) -> QuerySet:
    """Accounts in an account segment's active version whose territory is the code, with
    ``entered_at`` (as ``territory_members`` for customers; the field's account list)."""
    key = segment.key if isinstance(segment, Segment) else segment
    return (
        Account.objects.filter(
            territory_id=territory_code,
            membership_spells__version__segment__key=key,
            membership_spells__version__state=VersionState.ACTIVE,
            membership_spells__exited_as_of__isnull=True,
        )
        .annotate(entered_at=Max("membership_spells__entered_as_of"))
        .order_by(*ACCOUNT_ORDER)
    )


def territory_segment_assets(*, segment: Segment | str, channel: str | None = None) -> QuerySet:
    """Live content mapped to a segment (optionally usable on ``channel``), for exports."""
    key = segment.key if isinstance(segment, Segment) else segment
    qs = live_mappings().filter(segment__key=key).select_related("asset")
    mappings = list(qs)
    if channel:
        mappings = [m for m in mappings if not m.asset.channels or channel in m.asset.channels]
    return mappings


def territory_accounts(*, territory_code: str, limit: int = 200) -> list[dict]:
    """Accounts of the territory in active account segments, each with those segments' keys
    ("accounts in my territory"), by account id."""
    rows = (
        AccountMembershipSpell.objects.filter(
            exited_as_of__isnull=True,
            version__state=VersionState.ACTIVE,
            account__territory_id=territory_code,
        )
        .order_by("account_id", "version__segment__key")
        .values_list(
            "account_id", "account__name", "account__account_type", "version__segment__key"
        )
    )
    accounts: dict[str, dict] = {}
    for account_id, name, account_type, key in rows:
        if account_id not in accounts:
            if len(accounts) >= limit:
                break
            accounts[account_id] = {
                "account_id": account_id,
                "name": name,
                "account_type": account_type,
                "segments": [],
            }
        accounts[account_id]["segments"].append(key)
    return list(accounts.values())
