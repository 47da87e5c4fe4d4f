"""Activation benchmark (run by hand, on PostgreSQL). Prints figures; changes only bench data.

    DATABASE_URL=postgres://app:app@127.0.0.1:55434/app_bench_activation \\
        .venv/bin/python bench/bench_activation.py --customers 1000000 --members 500000

Measures, through ``activation.services.sync_publication`` (docs/activation.md):
  (a) the first sync of a ``--members`` segment (every member entered, 10% holdout
      computed in SQL with sha256, email opt-outs left out);
  (b) a delta of ``--changes`` membership changes (half exits, half entries), right
      after (a), and again once the tables are vacuumed (autovacuum's steady state);
  (c) a sync with no difference (nothing written);
  (d) delivering the first sync as a CSV file (a ``file`` destination);
and the process's peak RSS after each step. Delivery is measured apart from the
sync (the bench does not queue it on commit). Data: customers with
``generate_series`` (NPIs start with 3, names say "Bench"), one active segment
whose membership is written directly, one approved mapping for the email channel.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from activation.models import Destination, Publication, PublicationMember  # noqa: E402
from activation.services import deliver_publication, holdout, sync_publication  # noqa: E402
from activation.services import syncs as sync_services  # noqa: E402
from content.models import ContentAsset, ContentMapping  # noqa: E402
from customers.models import Customer  # noqa: E402
from segmentation.models import Membership, Segment, SegmentVersion  # noqa: E402

KEY = "bench-activation"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def execute(sql: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def ensure_customers(n: int) -> None:
    have = Customer.objects.count()
    if have >= n:
        return
    t0 = time.perf_counter()
    execute(
        "INSERT INTO customers_customer (npi, first_name, last_name, credential, specialty, "
        "role, practice_setting, state, zip, email_opt_out, created_at, updated_at) "
        "SELECT '3' || lpad(g::text, 9, '0'), 'Bench', 'Customer ' || g, '', 'cardiology', "
        "'', '', '', '', mod(g, 23) = 0, now(), now() "
        "FROM generate_series(1::bigint, %s::bigint) g ON CONFLICT DO NOTHING",
        [n],
    )
    execute("ANALYZE customers_customer")
    print(f"generated customers up to {n:,} in {time.perf_counter() - t0:.1f} s", flush=True)


def setup(members: int) -> tuple[Publication, SegmentVersion]:
    user, _ = User.objects.get_or_create(username="bench-activation", defaults={"full_name": "B"})
    Publication.objects.filter(segment__key=KEY).delete()
    ContentMapping.objects.filter(segment__key=KEY).delete()
    SegmentVersion.objects.filter(segment__key=KEY).delete()
    Segment.objects.filter(key=KEY).delete()
    segment = Segment.objects.create(key=KEY, created_by=user)
    version = SegmentVersion.objects.create(
        segment=segment,
        number=1,
        state="active",
        name="Bench",
        purpose="promotional",
        entry_rule={"all": []},
        content_hash="bench",
        author=user,
        last_as_of=timezone.now(),
    )
    t0 = time.perf_counter()
    execute(
        "INSERT INTO segmentation_membershipspell (version_id, customer_id, entered_as_of, "
        "entered_recorded_at) SELECT %s, id, now(), now() FROM customers_customer "
        "WHERE npi LIKE '3%%' ORDER BY id LIMIT %s",
        [version.pk, members],
    )
    execute("ANALYZE segmentation_membershipspell")
    print(f"wrote {members:,} memberships in {time.perf_counter() - t0:.1f} s", flush=True)
    asset, _ = ContentAsset.objects.get_or_create(
        code="BENCH-EMAIL-1",
        defaults={
            "title": "Bench",
            "audience": "hcp",
            "intent": "promotional",
            "channels": ["email"],
            "mlr_status": "approved",
            "expires_at": timezone.now() + timezone.timedelta(days=365),
        },
    )
    ContentMapping.objects.create(
        asset=asset,
        segment=segment,
        segment_version=version,
        state="approved",
        rationale="bench",
        proposed_by=user,
        proposed_at=timezone.now(),
    )
    root = Path(settings.ACTIVATION_FILE_ROOT)
    directory = Path(tempfile.mkdtemp(prefix="bench-", dir=_mkdir(root)))
    destination, _ = Destination.objects.update_or_create(
        key="bench-file",
        defaults={"name": "Bench", "channel": "email", "kind": "file", "directory": str(directory)},
    )
    publication = Publication.objects.create(
        segment=segment, destination=destination, holdout_percent=10, created_by=user
    )
    return publication, version


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def timed(label: str, fn, *, slowest: int = 4):
    """Run ``fn``; print its time, the peak RSS and its slowest SQL statements."""
    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
    print(f"{label:<44} {seconds:8.2f} s   peak RSS {peak_mb():6.0f} MB", flush=True)
    for query in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:slowest]:
        print(f"      {float(query['time']):6.2f} s  {' '.join(query['sql'].split())[:90]}")
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=500_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--deliver", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("warning: the targets are for PostgreSQL; this is", connection.vendor)
    call_command("migrate", verbosity=0)
    # Delivery is measured on its own: do not queue it when a sync commits.
    sync_services._queue_delivery = lambda publication_id: None
    ensure_customers(args.customers)
    publication, version = setup(args.members)
    print(f"baseline peak RSS {peak_mb():.0f} MB", flush=True)

    first, t_first = timed(
        f"(a) first sync, {args.members:,} members",
        lambda: sync_publication(publication_id=publication.pk, trigger="bench"),
    )
    print(f"    entered {first.entered_count:,}, exited {first.exited_count:,}")

    changes = 0

    def change_membership() -> None:
        """Half the changes exit the lowest members, half enter the highest non-members."""
        nonlocal changes
        half = args.changes // 2
        execute(
            "UPDATE segmentation_membershipspell SET exited_as_of = now(), "
            "exited_recorded_at = now() WHERE id IN (SELECT id FROM "
            "segmentation_membership WHERE version_id = %s ORDER BY customer_id LIMIT %s)",
            [version.pk, half],
        )
        execute(
            "INSERT INTO segmentation_membershipspell (version_id, customer_id, entered_as_of, "
            "entered_recorded_at) "
            "SELECT %s, c.id, now(), now() FROM customers_customer c WHERE c.npi LIKE '3%%' "
            "AND NOT EXISTS (SELECT 1 FROM segmentation_membership m "
            "WHERE m.version_id = %s AND m.customer_id = c.id) ORDER BY c.id DESC LIMIT %s",
            [version.pk, version.pk, args.changes - half],
        )
        changes += 1

    change_membership()
    delta, t_cold = timed(
        f"(b) delta, {args.changes:,} changes, right after (a)",
        lambda: sync_publication(publication_id=publication.pk, trigger="bench"),
    )
    print(f"    entered {delta.entered_count:,}, exited {delta.exited_count:,}")
    # Steady state: autovacuum has visited the freshly written tables.
    execute("VACUUM ANALYZE segmentation_membershipspell")
    execute("VACUUM ANALYZE activation_publicationmember")
    change_membership()
    delta, t_delta = timed(
        f"(b') delta, {args.changes:,} changes, after VACUUM",
        lambda: sync_publication(publication_id=publication.pk, trigger="bench"),
    )
    print(f"    entered {delta.entered_count:,}, exited {delta.exited_count:,}")
    same, t_same = timed(
        "(c) sync with no difference",
        lambda: sync_publication(publication_id=publication.pk, trigger="bench"),
    )
    assert same is None

    # The invariant, checked in SQL against the Python rule on a sample.
    held = PublicationMember.objects.filter(publication=publication, state="sent").count()
    sample = list(
        Membership.objects.filter(version=version).values_list(
            "customer__npi", "customer__email_opt_out"
        )[:2000]
    )
    expected_sample = {
        npi for npi, out in sample if not out and not holdout.in_holdout(publication.pk, npi, 10)
    }
    got_sample = set(
        PublicationMember.objects.filter(
            publication=publication, state="sent", customer__npi__in=[n for n, _ in sample]
        ).values_list("customer__npi", flat=True)
    )
    assert got_sample == expected_sample, "invariant broken on the sample"
    print(f"    destination holds {held:,}; sample of 2,000 matches the holdout/opt-out rule")

    if args.deliver:
        outcome, t_file = timed(
            "(d) deliver syncs 1 to 3 as CSV files",
            lambda: deliver_publication(publication_id=publication.pk),
        )
        assert outcome.delivered == [1, 2, 3], outcome
    print(
        f"\nfirst sync {t_first:.2f} s (target < 30 s); delta {t_cold:.3f} s right after it, "
        f"{t_delta:.3f} s after VACUUM (target < 1 s); "
        f"peak RSS {peak_mb():.0f} MB; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
