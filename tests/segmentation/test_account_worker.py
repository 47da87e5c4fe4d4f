"""With REDIS_URL set: account memberships move on a real worker when a customer's data
changes through an import (the outbox path)."""

from __future__ import annotations

import io

import pytest

from customers.services import import_file
from segmentation.models import AccountMembershipSpell
from tests.factories import CustomerFactory, UserFactory
from tests.factories.customers import AccountFactory
from tests.worker_support import require_worker_setup, start_worker, stop_worker, wait_for

from .segments_support import activate, make_segment

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    require_worker_setup()
    from config.celery import app

    app.control.purge()
    proc = start_worker("accounts-test")
    yield proc
    stop_worker(proc)


def test_a_customer_import_moves_the_accounts_above_it(worker):
    brand = UserFactory(roles=["brand"])
    system = AccountFactory(account_id="HS-W", account_type="health_system")
    hospital = AccountFactory(account_id="H-W", parent=system)
    customer = CustomerFactory(account=hospital, specialty="cardiology", decile=2)
    version = activate(
        make_segment(
            brand,
            "w-systems",
            {"members": {"field": "decile", "op": "gte", "value": 8}},
            unit="account",
            rollup="hierarchy",
        )
    )

    def members() -> set[str]:
        return set(
            AccountMembershipSpell.objects.filter(
                version=version, exited_as_of__isnull=True
            ).values_list("account_id", flat=True)
        )

    assert members() == set()
    rows = (
        "npi,first_name,last_name,specialty,account_id,decile\n"
        f"{customer.npi},Ada,Lovelace,cardiology,H-W,9\n"
    )
    import_file(kind="customers", file=io.BytesIO(rows.encode()), file_name="c.csv")
    assert wait_for(lambda: members() == {"HS-W", "H-W"})
