"""Numbered syncs: the set-based difference, the compliance gate and the message.

See docs/activation.md, "Syncs" and "The compliance gate". One sync is made
under a lock on the publication row, so concurrent requests are serialised and
numbers never repeat. The difference is computed in SQL between the
publication's decided members (``PublicationMember``: sent, holdout or
suppressed) and the active version's members; the destination's set is the
``sent`` rows, i.e. the members minus the holdout minus suppressed customers
(``email_opt_out`` for the email channel). When approved content for the channel is gone, or the
segment has no active version any more, the target set is empty: the sync
exits everyone with ``content_revoked`` or ``retired`` and the publication pauses.

An account segment's publication runs the same statements over accounts
(``_Side``): members are the version's accounts, the holdout hashes
``<publication id>:<account_id>``, nothing is suppressed (opt-outs are a
customer's), and messages name ``account_id`` where a customer's name ``npi``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from audit.services import record_event
from content.selectors import live_mappings
from content.services import expire_due_assets
from core.time import iso_z
from customers.models import Account, Customer
from customers.vocabularies import Channel
from segmentation.models import SegmentVersion, Unit, VersionState
from segmentation.units import ACCOUNT, CUSTOMER, UnitSpec

from ..models import (
    ChangeAction,
    DeliveryState,
    MemberState,
    OptOutCheck,
    Publication,
    PublicationMember,
    PublicationState,
    Sync,
    SyncChange,
)
from ..signals import delivery_due
from .holdout import bucket_sql

RETIRED = "retired"
ANALYZE_AFTER = 10_000  # rows changed by one sync
CONTENT_REVOKED = "content_revoked"


@dataclass
class Gate:
    """Whether a publication may send now, and what: the active version and approved content."""

    version: SegmentVersion | None
    content: list[str] = field(default_factory=list)
    closed_reason: str = ""  # "", "retired" or "content_revoked"
    message: str = ""

    @property
    def open(self) -> bool:
        return not self.closed_reason


def approved_content(*, segment_id: int, channel: str) -> list[str]:
    """Codes of live assets with an approved mapping to the segment that list ``channel``."""
    rows = (
        live_mappings().filter(segment_id=segment_id).values_list("asset__code", "asset__channels")
    )
    return sorted({code for code, channels in rows if channel in (channels or [])})


def publication_gate(publication: Publication) -> Gate:
    """The compliance gate of docs/activation.md for this publication, now."""
    segment = publication.segment
    channel = publication.destination.channel
    version = SegmentVersion.objects.filter(segment=segment, state=VersionState.ACTIVE).first()
    if version is None:
        return Gate(
            version=None,
            closed_reason=RETIRED,
            message=f"segment {segment.key} has no active version (retired)",
        )
    content = approved_content(segment_id=segment.pk, channel=channel)
    if not content:
        return Gate(
            version=version,
            closed_reason=CONTENT_REVOKED,
            message=(
                f"segment {segment.key} has no approved content mapping whose asset "
                f"lists the channel '{channel}'"
            ),
        )
    return Gate(version=version, content=content)


@dataclass(frozen=True)
class _Side:
    """What a publication sends: customers (by NPI) or accounts (by ``account_id``)."""

    unit: UnitSpec
    column: str  # the member column of PublicationMember and SyncChange
    id_type: str  # its SQL type, for the temporary tables
    table: str  # the members' own table, joined as ``c``
    pk: str  # its key column
    npi: str  # what SyncChange.npi copies ('' for an account)
    hash_key: str  # what the holdout hashes
    opt_outs: bool  # whether email opt-outs apply

    @property
    def key(self) -> str:
        """The member's id in messages and files: ``npi`` or ``account_id``."""
        return self.unit.key

    def members_sql(self) -> str:
        """The version's current members as ``id`` (one parameter: the version)."""
        return (
            f"SELECT {self.unit.column} AS id FROM {self.unit.table} "
            "WHERE version_id = %s AND exited_as_of IS NULL"
        )


CUSTOMERS = _Side(
    CUSTOMER, "customer_id", "bigint", Customer._meta.db_table, "id", "c.npi", "c.npi", True
)
ACCOUNTS = _Side(
    ACCOUNT,
    "account_id",
    "varchar(64)",
    Account._meta.db_table,
    "account_id",
    "''",
    "c.account_id",
    False,
)


def side_of(publication: Publication) -> _Side:
    return ACCOUNTS if publication.segment.unit == Unit.ACCOUNT else CUSTOMERS


DIFF_TABLE = "activation_sync_diff"
NEW_TABLE = "activation_sync_new"
FLIP_TABLE = "activation_sync_flip"
CHECKED_TABLE = "activation_sync_checked"
GONE_TABLE = "activation_sync_gone"


def _tables() -> dict[str, str]:
    return {
        "pm": PublicationMember._meta.db_table,
        "change": SyncChange._meta.db_table,
        "diff": DIFF_TABLE,
        "new": NEW_TABLE,
        "gone": GONE_TABLE,
        "flip": FLIP_TABLE,
        "check": OptOutCheck._meta.db_table,
        "checked": CHECKED_TABLE,
    }


def _run(sql: str, params: list | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return max(cursor.rowcount, 0)


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def _temporary(name: str, columns: str) -> None:
    _run(f"DROP TABLE IF EXISTS {name}")
    _run(f"CREATE TEMPORARY TABLE {name} ({columns})")


def _analyze(*tables: str) -> None:
    if connection.vendor == "postgresql":
        for table in tables:
            _run(f"ANALYZE {table}")  # temporary tables are never auto-analysed


def _decision_sql(publication: Publication, side: _Side) -> tuple[str, list]:
    """CASE giving a new member's state: holdout first (the fixed rule), then opt-out."""
    cases, params = [], []
    if publication.holdout_percent > 0:
        bucket = bucket_sql(connection, publication_id=publication.pk, npi_column=side.hash_key)
        cases.append(f"WHEN {bucket} < %s THEN %s")
        params += [publication.holdout_percent, MemberState.HOLDOUT.value]
    if side.opt_outs and publication.destination.channel == Channel.EMAIL:
        cases.append("WHEN c.email_opt_out = %s THEN %s")
        params += [True, MemberState.SUPPRESSED.value]
    if not cases:
        return "%s", [MemberState.SENT.value]
    return f"CASE {' '.join(cases)} ELSE %s END", [*params, MemberState.SENT.value]


def _difference(publication: Publication, gate: Gate, side: _Side) -> None:
    """Two small temporary tables: members the publication has not decided on yet (with
    their state), and decided customers who are no longer members (with their old state).

    The comparison reads only the two id sets (membership of the version, decided
    members of the publication): on PostgreSQL one full join, on SQLite one
    anti-join each way. Customers are joined, and the holdout hash computed, only
    for the few rows that differ.
    """
    t, col, members = _tables(), side.column, side.members_sql()
    _temporary(t["diff"], f"id {side.id_type} PRIMARY KEY, state varchar(12), is_new boolean")
    _temporary(t["new"], f"id {side.id_type} PRIMARY KEY, npi varchar(10), state varchar(12)")
    _temporary(t["gone"], f"id {side.id_type} PRIMARY KEY, npi varchar(10), state varchar(12)")
    version_id, publication_id = gate.version.pk, publication.pk
    if connection.vendor == "postgresql":
        # Both sides come ordered by customer from their unique (version, customer) and
        # (publication, customer) indexes: a merge join reads them once, without
        # hashing half a million ids (bench/README.md, activation). Only for this statement.
        previous = _setting("enable_hashjoin")
        _run("SELECT set_config('enable_hashjoin', 'off', true)")
        _run(
            f"""INSERT INTO {t["diff"]} (id, state, is_new)
                SELECT COALESCE(m.id, p.id), p.state, p.id IS NULL
                FROM ({members}) m
                FULL JOIN (SELECT {col} AS id, state FROM {t["pm"]} WHERE publication_id = %s) p
                  ON p.id = m.id
                WHERE m.id IS NULL OR p.id IS NULL""",
            [version_id, publication_id],
        )
        _run("SELECT set_config('enable_hashjoin', %s, true)", [previous])
    else:
        _run(
            f"""INSERT INTO {t["diff"]} (id, state, is_new)
                SELECT m.id, NULL, %s FROM ({members}) m
                WHERE NOT EXISTS (
                    SELECT 1 FROM {t["pm"]} p
                    WHERE p.publication_id = %s AND p.{col} = m.id)""",
            [True, version_id, publication_id],
        )
        _run(
            f"""INSERT INTO {t["diff"]} (id, state, is_new)
                SELECT p.{col}, p.state, %s FROM {t["pm"]} p
                WHERE p.publication_id = %s AND p.{col} IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM ({members}) m WHERE m.id = p.{col})""",
            [False, publication_id, version_id],
        )
    _analyze(t["diff"])
    decision, decision_params = _decision_sql(publication, side)
    _run(
        f"""INSERT INTO {t["new"]} (id, npi, state)
            SELECT d.id, {side.npi}, {decision}
            FROM {t["diff"]} d JOIN {side.table} c ON c.{side.pk} = d.id WHERE d.is_new = %s""",
        [*decision_params, True],
    )
    _run(
        f"""INSERT INTO {t["gone"]} (id, npi, state)
            SELECT d.id, {side.npi}, d.state
            FROM {t["diff"]} d JOIN {side.table} c ON c.{side.pk} = d.id WHERE d.is_new = %s""",
        [False],
    )
    _analyze(t["new"], t["gone"])


def _delete_members(publication: Publication, side: _Side, source: str, params: list) -> None:
    """Delete the publication's rows for the member ids that ``source`` selects."""
    t, col = _tables(), side.column
    if connection.vendor == "postgresql":
        # A join, not IN (subquery): PostgreSQL probes the unique (publication, customer) index.
        _run(
            f"""DELETE FROM {t["pm"]} p USING ({source}) x
                WHERE p.publication_id = %s AND p.{col} = x.id""",
            [*params, publication.pk],
        )
    else:
        _run(
            f"""DELETE FROM {t["pm"]} WHERE publication_id = %s AND {col} IN (
                SELECT id FROM ({source}) x)""",
            [publication.pk, *params],
        )


def _apply_open(publication: Publication, sync: Sync, gate: Gate, *, full: bool) -> tuple[int, int]:
    """The delta while the gate is open. Returns (entered, exited)."""
    t, side = _tables(), side_of(publication)
    col = side.column
    _difference(publication, gate, side)
    enter, leave = ChangeAction.ENTER.value, ChangeAction.EXIT.value
    sent = MemberState.SENT.value
    # Members who left: the destination loses those it held; every decision is forgotten.
    exited = _run(
        f"""INSERT INTO {t["change"]} (sync_id, {col}, npi, action, reason)
            SELECT %s, id, npi, %s, %s FROM {t["gone"]} WHERE state = %s""",
        [sync.pk, leave, "exit", sent],
    )
    _delete_members(publication, side, f"SELECT id FROM {t['gone']}", [])
    entered = 0
    if side.opt_outs and publication.destination.channel == Channel.EMAIL:
        entered_back, suppressed_now = _apply_opt_outs(publication, sync, full=full)
        entered += entered_back
        exited += suppressed_now
    # New members: record the decision for every one, send those decided `sent`.
    entered += _run(
        f"""INSERT INTO {t["change"]} (sync_id, {col}, npi, action, reason)
            SELECT %s, id, npi, %s, %s FROM {t["new"]} WHERE state = %s""",
        [sync.pk, enter, "", sent],
    )
    _run(
        f"""INSERT INTO {t["pm"]} (publication_id, {col}, state, entered_sync, since)
            SELECT %s, id, state, %s, %s FROM {t["new"]}""",
        [publication.pk, sync.number, sync.created_at],
    )
    for table in (t["diff"], t["new"], t["gone"], t["flip"], t["checked"]):
        _run(f"DROP TABLE IF EXISTS {table}")
    return entered, exited


def _apply_opt_outs(publication: Publication, sync: Sync, *, full: bool) -> tuple[int, int]:
    """Email: exit held customers who opted out (``suppressed``); enter those who opted back in.

    A full check reads every decided member; otherwise only the customers whose
    data changed since the last sync (``OptOutCheck`` rows, written in the data
    change's transaction). The checked rows are deleted. Returns (entered, exited).
    """
    t = _tables()
    sent, suppressed = MemberState.SENT.value, MemberState.SUPPRESSED.value
    _temporary(t["checked"], "id bigint PRIMARY KEY, customer_id bigint")
    _run(
        f"""INSERT INTO {t["checked"]} (id, customer_id)
            SELECT id, customer_id FROM {t["check"]} WHERE publication_id = %s""",
        [publication.pk],
    )
    scope = "" if full else f"AND p.customer_id IN (SELECT customer_id FROM {t['checked']})"
    _temporary(t["flip"], "id bigint PRIMARY KEY, npi varchar(10), state varchar(12)")
    flips = _run(
        f"""INSERT INTO {t["flip"]} (id, npi, state)
            SELECT c.id, c.npi, p.state
            FROM {t["pm"]} p JOIN {Customer._meta.db_table} c ON c.id = p.customer_id
            WHERE p.publication_id = %s {scope}
              AND ((p.state = %s AND c.email_opt_out = %s)
                   OR (p.state = %s AND c.email_opt_out = %s))""",
        [publication.pk, sent, True, suppressed, False],
    )
    _run(
        f"DELETE FROM {t['check']} WHERE id IN (SELECT id FROM {t['checked']})",
    )
    if not flips:
        return 0, 0
    exited = _run(
        f"""INSERT INTO {t["change"]} (sync_id, customer_id, npi, action, reason)
            SELECT %s, id, npi, %s, %s FROM {t["flip"]} WHERE state = %s""",
        [sync.pk, ChangeAction.EXIT.value, "suppressed", sent],
    )
    entered = _run(
        f"""INSERT INTO {t["change"]} (sync_id, customer_id, npi, action, reason)
            SELECT %s, id, npi, %s, %s FROM {t["flip"]} WHERE state = %s""",
        [sync.pk, ChangeAction.ENTER.value, "", suppressed],
    )
    _run(
        f"""UPDATE {t["pm"]}
            SET state = CASE WHEN state = %s THEN %s ELSE %s END, entered_sync = %s, since = %s
            WHERE publication_id = %s AND customer_id IN (SELECT id FROM {t["flip"]})""",
        [sent, suppressed, sent, sync.number, sync.created_at, publication.pk],
    )
    return entered, exited


def _apply_closed(publication: Publication, sync: Sync, gate: Gate) -> int:
    """The final sync of a closed gate: exit everyone held, forget every decision."""
    t, side = _tables(), side_of(publication)
    exited = _run(
        f"""INSERT INTO {t["change"]} (sync_id, {side.column}, npi, action, reason)
            SELECT %s, c.{side.pk}, {side.npi}, %s, %s
            FROM {t["pm"]} p JOIN {side.table} c ON c.{side.pk} = p.{side.column}
            WHERE p.publication_id = %s AND p.state = %s""",
        [
            sync.pk,
            ChangeAction.EXIT.value,
            gate.closed_reason,
            publication.pk,
            MemberState.SENT.value,
        ],
    )
    PublicationMember.objects.filter(publication=publication).delete()
    OptOutCheck.objects.filter(publication=publication).delete()
    return exited


def _last_version_number(publication: Publication) -> int:
    last = publication.syncs.order_by("-number").values_list("version_number", flat=True).first()
    return last or 0


def sync_publication(
    *, publication_id: int, trigger: str, user=None, full: bool = False
) -> Sync | None:
    """Make the next sync of a publication if anything differs; None when nothing does.

    A paused publication sends nothing, except the final sync that exits
    everyone when its compliance gate has closed. A live publication whose gate
    closed sends that final sync and becomes paused. Delivery is queued when the
    sync commits. ``full`` re-checks every held customer's email opt-out, not only
    those whose data changed since the last sync (on demand, on resume, nightly).
    """
    # Expire what is due first, so an asset past its date never reaches a message.
    expire_due_assets()
    with transaction.atomic():
        publication = (
            Publication.objects.select_for_update()
            .select_related("segment", "destination")
            .get(pk=publication_id)
        )
        gate = publication_gate(publication)
        if publication.state == PublicationState.PAUSED and gate.open:
            return None
        holds_anyone = PublicationMember.objects.filter(
            publication=publication, state=MemberState.SENT
        ).exists()
        if publication.state == PublicationState.PAUSED and not holds_anyone:
            return None
        now = timezone.now()
        version = gate.version
        sync = Sync.objects.create(
            publication=publication,
            number=publication.last_sync + 1,
            version=version,
            version_number=version.number if version else _last_version_number(publication),
            as_of=(version.last_as_of or now) if version else now,
            content=gate.content,
            trigger=trigger,
            created_at=now,
        )
        if gate.open:
            entered, exited = _apply_open(publication, sync, gate, full=full)
        else:
            entered, exited = 0, _apply_closed(publication, sync, gate)
        if entered == 0 and exited == 0 and gate.content == list(publication.content or []):
            sync.delete()
            sync = None
        else:
            if entered + exited >= ANALYZE_AFTER and connection.vendor == "postgresql":
                # A big sync (a first one) changes the tables' shape: refresh the planner's
                # statistics now, so the next delta is not planned on an empty table.
                with connection.cursor() as cursor:
                    tables = _tables()
                    cursor.execute(f"ANALYZE {tables['pm']}, {tables['change']}")
            sync.entered_count, sync.exited_count = entered, exited
            sync.save(update_fields=["entered_count", "exited_count"])
            publication.last_sync = sync.number
            publication.content = gate.content
            publication.save(update_fields=["last_sync", "content"])
            record_event(
                actor=user,
                action="sync.created",
                object_type="publication",
                object_id=publication.pk,
                after={
                    "sync": sync.number,
                    "segment": publication.segment.key,
                    "destination": publication.destination.key,
                    "version": sync.version_number,
                    "entered": entered,
                    "exited": exited,
                    "content": gate.content,
                },
                reason=trigger,
            )
            pid = publication.pk
            transaction.on_commit(lambda: _queue_delivery(pid))
        if not gate.open and publication.state == PublicationState.LIVE:
            publication.state = PublicationState.PAUSED
            publication.paused_reason = gate.message
            publication.save(update_fields=["state", "paused_reason"])
            record_event(
                actor=user,
                action="publication.paused",
                object_type="publication",
                object_id=publication.pk,
                before={"state": PublicationState.LIVE.value},
                after={"state": PublicationState.PAUSED.value, "gate": gate.closed_reason},
                reason=gate.message,
            )
    return sync


def _queue_delivery(publication_id: int) -> None:
    """Announce a sync to deliver (called on commit; receivers.py queues the task)."""
    delivery_due.send(sender=_queue_delivery, publication_id=publication_id)


def sync_message(sync: Sync) -> dict:
    """The message of docs/activation.md, rendered from the sync's rows (NPIs in order;
    an account segment's message names ``account_id`` instead, in order)."""
    publication = sync.publication
    content = list(sync.content or [])
    changes = SyncChange.objects.filter(sync=sync)
    key = side_of(publication).key
    field = "npi" if key == "npi" else "account"
    entered = [
        {key: member, "content": content}
        for member in changes.filter(action=ChangeAction.ENTER)
        .order_by(field)
        .values_list(field, flat=True)
        .iterator(chunk_size=10000)
    ]
    exited = [
        {key: member, "reason": reason}
        for member, reason in changes.filter(action=ChangeAction.EXIT)
        .order_by(field)
        .values_list(field, "reason")
        .iterator(chunk_size=10000)
    ]
    return {
        "publication": publication.pk,
        "segment": publication.segment.key,
        "version": sync.version_number,
        "sync": sync.number,
        "as_of": iso_z(sync.as_of),
        "channel": publication.destination.channel,
        "entered": entered,
        "exited": exited,
        "content": content,
    }


def undelivered(publication: Publication):
    return publication.syncs.exclude(state=DeliveryState.DELIVERED).order_by("number")
