"""With REDIS_URL and PostgreSQL: a customer import moves an account into a published
account segment on a real worker, which syncs and delivers the account (``account_id``).

Run with e.g. ``DATABASE_URL=postgres://... REDIS_URL=redis://... pytest -m worker``.
"""

from __future__ import annotations

import io

import pytest

from activation import services
from customers.services import import_file
from tests.factories import CustomerFactory
from tests.factories.activation import DestinationFactory
from tests.factories.customers import AccountFactory
from tests.segmentation.segments_support import account_member_ids, activate, make_segment
from tests.worker_support import require_worker_setup, start_worker, stop_worker, wait_for

from .support import approved_mapping

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    require_worker_setup()
    from config.celery import app

    app.control.purge()
    proc = start_worker("account-publication-test", ACTIVATION_WEBHOOK_TIMEOUT="2")
    yield proc
    stop_worker(proc)


def test_an_import_sends_the_account_that_entered(worker, receiver, make_user):
    brand = make_user("brand")
    hospital = AccountFactory(account_id="H-PUB", account_type="hospital")
    AccountFactory(account_id="H-OTHER", account_type="hospital")
    customer = CustomerFactory(account=hospital, specialty="cardiology", decile=2)
    version = activate(
        make_segment(
            brand,
            "kam-hospitals",
            {"members": {"field": "decile", "op": "gte", "value": 8}},
            unit="account",
        )
    )
    approved_mapping(version, brand)
    destination = DestinationFactory(url=receiver.url, secret="k", channel="rep_visit")
    publication = services.create_publication(
        user=brand, segment=version.segment, destination_key=destination.key
    )
    rows = (
        "npi,first_name,last_name,specialty,account_id,decile\n"
        f"{customer.npi},Ada,Lovelace,cardiology,H-PUB,9\n"
    )
    import_file(kind="customers", file=io.BytesIO(rows.encode()), file_name="c.csv")
    # Generous timeouts: the worker shares a busy machine (nothing here measures speed).
    assert wait_for(lambda: account_member_ids(version) == {"H-PUB"}, timeout=300)
    # The first sync (on publishing) carried only the content; the recompute's sync enters.
    assert wait_for(lambda: any(m["entered"] for m in receiver.accepted()), timeout=300)
    messages = receiver.accepted()
    assert [m["sync"] for m in messages] == list(range(1, len(messages) + 1))
    assert {m["publication"] for m in messages} == {publication.pk}
    entered = [row for m in messages for row in m["entered"]]
    assert entered == [{"account_id": "H-PUB", "content": ["US-CARD-0042"]}]
    assert [row for m in messages for row in m["exited"]] == []
