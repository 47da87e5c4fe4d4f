"""Syncs: set-based deltas, numbering, holdout, suppression and the compliance gate."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from activation import services
from activation.models import OptOutCheck, Publication, PublicationMember, Sync
from activation.services import holdout_bucket, in_holdout, sync_message, sync_publication
from content import services as content_services
from customers.models import Customer
from customers.signals import announce_customers_changed
from governance import services as governance
from segmentation.models import SegmentVersion
from segmentation.services import recompute_version
from tests.factories.activation import DestinationFactory

from .support import (
    active_version,
    approved_mapping,
    cardiologists,
    held_npis,
    members,
    reasons,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand(make_user):
    return make_user("brand")


def publish(brand, version, *, channel="email", holdout=0, **dest):
    destination = DestinationFactory(channel=channel, **dest)
    return services.create_publication(
        user=brand,
        segment=version.segment,
        destination_key=destination.key,
        holdout_percent=holdout,
    )


def sync(publication, trigger="test"):
    return sync_publication(publication_id=publication.pk, trigger=trigger)


def npis(customers):
    return {c.npi for c in customers}


def test_first_sync_enters_every_current_member(brand):
    people = cardiologists(3)
    version = active_version(brand, customers=people)
    approved_mapping(version, brand)
    publication = publish(brand, version)
    first = sync(publication)
    message = sync_message(first)
    assert first.number == 1
    assert {r["npi"] for r in message["entered"]} == npis(people)
    assert message["exited"] == []
    assert message["content"] == ["US-CARD-0042"]
    assert all(r["content"] == ["US-CARD-0042"] for r in message["entered"])


def test_message_has_the_contract_fields(brand):
    version = active_version(brand, customers=cardiologists(1))
    approved_mapping(version, brand)
    publication = publish(brand, version)
    message = sync_message(sync(publication))
    assert set(message) == {
        "publication",
        "segment",
        "version",
        "sync",
        "as_of",
        "channel",
        "entered",
        "exited",
        "content",
    }
    assert message["publication"] == publication.pk
    assert message["segment"] == "cardio"
    assert message["version"] == version.number
    assert message["channel"] == "email"
    assert message["as_of"].endswith("Z")


def test_a_sync_with_no_difference_is_not_created(brand):
    version = active_version(brand, customers=cardiologists(2))
    approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    assert sync(publication) is None
    assert Sync.objects.filter(publication=publication).count() == 1
    publication.refresh_from_db()
    assert publication.last_sync == 1


def test_later_syncs_carry_only_the_difference(brand):
    a, b, c = cardiologists(3)
    version = active_version(brand, customers=[a, b])
    approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    members(version, [b, c])
    second = sync(publication)
    message = sync_message(second)
    assert second.number == 2
    assert [r["npi"] for r in message["entered"]] == [c.npi]
    assert message["exited"] == [{"npi": a.npi, "reason": "exit"}]
    assert held_npis(publication) == {b.npi, c.npi}


def test_holdout_in_sql_is_the_contract_rule(brand):
    people = cardiologists(40)
    version = active_version(brand, customers=people)
    approved_mapping(version, brand)
    publication = publish(brand, version, holdout=50)
    sync(publication)
    expected = {c.npi for c in people if not in_holdout(publication.pk, c.npi, 50)}
    assert held_npis(publication) == expected
    assert 0 < len(expected) < 40


def test_holdout_bucket_reads_the_first_8_hex_digits():

    digest = hashlib.sha256(b"7:1000000004").hexdigest()
    assert holdout_bucket(7, "1000000004") == int(digest[:8], 16) % 100


def test_holdout_is_stable_across_versions(brand):
    people = cardiologists(30)
    version = active_version(brand, customers=people)
    approved_mapping(version, brand)
    publication = publish(brand, version, holdout=30)
    sync(publication)
    held_before = held_npis(publication)
    # A new version becomes active with the same members: nobody moves in or out of the holdout.
    SegmentVersion.objects.filter(pk=version.pk).update(state="superseded")
    v2 = SegmentVersion.objects.create(
        segment=version.segment,
        number=2,
        state="active",
        name="v2",
        purpose="promotional",
        entry_rule=version.entry_rule,
        content_hash="x",
        author=brand,
    )
    members(v2, people)
    assert sync(publication) is None
    assert held_npis(publication) == held_before


def test_email_never_receives_opted_out_customers(brand):
    (kept,) = cardiologists(1)
    (opted_out,) = cardiologists(1, email_opt_out=True)
    version = active_version(brand, customers=[kept, opted_out])
    approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    assert held_npis(publication) == {kept.npi}


def test_other_channels_receive_opted_out_customers(brand):
    (opted_out,) = cardiologists(1, email_opt_out=True)
    version = active_version(brand, customers=[opted_out])
    approved_mapping(version, brand)
    publication = publish(brand, version, channel="rep_visit")
    sync(publication)
    assert held_npis(publication) == {opted_out.npi}


def test_a_customer_who_opts_out_later_is_exited_as_suppressed(
    brand, django_capture_on_commit_callbacks
):

    a, b = cardiologists(2)
    version = active_version(brand, customers=[a, b])
    approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    a.email_opt_out = True
    a.save()
    with django_capture_on_commit_callbacks(execute=True):
        announce_customers_changed(customer_ids=[a.pk], source="test")
    last = Sync.objects.get(publication=publication, number=2)
    assert reasons(last) == {a.npi: "suppressed"}
    assert held_npis(publication) == {b.npi}


def test_revoked_mapping_exits_everyone_and_pauses(brand, django_capture_on_commit_callbacks):
    people = cardiologists(2)
    version = active_version(brand, customers=people)
    mapping = approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    with django_capture_on_commit_callbacks(execute=True):
        content_services.revoke_mappings_for_asset(
            asset=mapping.asset, actor=None, reason="withdrawn by MLR"
        )
    publication.refresh_from_db()
    final = Sync.objects.get(publication=publication, number=2)
    assert reasons(final) == {c.npi: "content_revoked" for c in people}
    assert sync_message(final)["content"] == []
    assert publication.state == "paused"
    assert held_npis(publication) == set()


def test_expired_asset_exits_everyone_even_before_the_expiry_job(brand):
    people = cardiologists(2)
    version = active_version(brand, customers=people)
    mapping = approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    mapping.asset.expires_at = timezone.now() - dt.timedelta(minutes=1)
    mapping.asset.save()
    final = sync(publication)
    publication.refresh_from_db()
    assert reasons(final) == {c.npi: "content_revoked" for c in people}
    assert publication.state == "paused"


def test_a_mapping_for_another_channel_does_not_keep_it_open(brand):
    people = cardiologists(1)
    version = active_version(brand, customers=people)
    email = approved_mapping(version, brand)
    approved_mapping(version, brand, code="US-CARD-0099", channels=["rep_visit"])
    publication = publish(brand, version)
    sync(publication)
    content_services.revoke_mappings_for_asset(asset=email.asset, actor=None, reason="gone")
    final = sync(publication)
    assert reasons(final) == {people[0].npi: "content_revoked"}


def test_retired_segment_exits_everyone_as_retired(
    brand, make_user, django_capture_on_commit_callbacks
):
    people = cardiologists(2)
    version = active_version(brand, customers=people)
    approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    with django_capture_on_commit_callbacks(execute=True):
        governance.retire_version(user=brand, version=version, reason="brand ended")
    publication.refresh_from_db()
    final = Sync.objects.get(publication=publication, number=2)
    assert reasons(final) == {c.npi: "retired" for c in people}
    assert publication.state == "paused"


def test_manually_paused_publication_sends_nothing(brand):
    a, b = cardiologists(2)
    version = active_version(brand, customers=[a])
    approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    services.pause_publication(user=brand, publication=publication)
    members(version, [a, b])
    assert sync(publication) is None


def test_content_change_alone_makes_a_sync(brand):
    version = active_version(brand, customers=cardiologists(1))
    approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    approved_mapping(version, brand, code="US-CARD-0077")
    second = sync(publication)
    message = sync_message(second)
    assert message["entered"] == [] and message["exited"] == []
    assert message["content"] == ["US-CARD-0042", "US-CARD-0077"]


def test_recompute_on_the_active_version_syncs_on_commit(brand, django_capture_on_commit_callbacks):

    people = cardiologists(2)
    version = active_version(brand)
    approved_mapping(version, brand)
    publication = publish(brand, version)
    with django_capture_on_commit_callbacks(execute=True):
        recompute_version(version=version)
    assert held_npis(publication) == npis(people)
    assert Publication.objects.get(pk=publication.pk).last_sync == 1


def test_publishing_queues_the_first_sync_on_commit(brand, django_capture_on_commit_callbacks):
    people = cardiologists(2)
    version = active_version(brand, customers=people)
    approved_mapping(version, brand)
    destination = DestinationFactory(channel="email")
    with django_capture_on_commit_callbacks(execute=True):
        publication = services.create_publication(
            user=brand, segment=version.segment, destination_key=destination.key
        )
    assert held_npis(publication) == npis(people)


def test_an_unannounced_opt_out_is_caught_by_a_full_sync(brand):
    a, b = cardiologists(2)
    version = active_version(brand, customers=[a, b])
    approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    Customer.objects.filter(pk=a.pk).update(email_opt_out=True)  # no announcement
    assert sync(publication) is None
    final = sync_publication(publication_id=publication.pk, trigger="reconcile", full=True)
    assert reasons(final) == {a.npi: "suppressed"}


def test_an_opt_in_enters_again(brand, django_capture_on_commit_callbacks):

    (a,) = cardiologists(1, email_opt_out=True)
    version = active_version(brand, customers=[a])
    approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    assert held_npis(publication) == set()
    Customer.objects.filter(pk=a.pk).update(email_opt_out=False)
    with django_capture_on_commit_callbacks(execute=True):
        announce_customers_changed(customer_ids=[a.pk], source="test")
    assert held_npis(publication) == {a.npi}


def test_deleting_a_customer_forgets_the_publication_decision(brand):

    (a,) = cardiologists(1)
    version = active_version(brand, customers=[a])
    approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    Customer.objects.get(pk=a.pk).delete()
    assert not PublicationMember.objects.filter(publication=publication).exists()


def test_new_interactions_do_not_queue_opt_out_checks(brand):
    (a,) = cardiologists(1)
    version = active_version(brand, customers=[a])
    approved_mapping(version, brand)
    publication = publish(brand, version)
    sync(publication)
    announce_customers_changed(customer_ids=[a.pk], source="api:interactions")
    assert not OptOutCheck.objects.exists()
    announce_customers_changed(customer_ids=[a.pk], source="import:customers")
    assert OptOutCheck.objects.filter(publication=publication, customer=a).exists()
