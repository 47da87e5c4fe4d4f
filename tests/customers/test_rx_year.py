"""RxYear stays the sum of RxFact per product and over every product, whatever
writes the facts.

The triggers of migration customers/0010 keep it (docs/rules.md, "Rx by
calendar year"); every test writes facts one way and compares the table with
the facts summed in Python. Rows whose sums are all 0 may remain after
deletes; they mean the same as no row.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from customers.models import Customer, RxFact, RxYear, rx_month_column
from tests.app_role import app_role_cursor
from tests.factories import CustomerFactory, RxFactFactory, valid_npi

from .helpers import assert_totals_exact, run_import

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
METRICS = ("nrx", "trx", "new_patient_starts")


def _total(customer, month, product="") -> tuple:
    """The month's sums of ``product`` ("": every product) in the customer's RxYear row."""
    row = RxYear.objects.filter(customer=customer, product=product, year=month.year)
    columns = [rx_month_column(m, month.month) for m in METRICS]
    return row.values_list(*columns).first() or (0, 0, 0)


def _facts(customer, *, months=(JAN, FEB), products=("P1", "P2", "P3")) -> list[RxFact]:
    return [
        RxFact(
            customer=customer,
            month=month,
            product=product,
            nrx=i + 1,
            trx=2 * i + 3,
            new_patient_starts=i % 2,
        )
        for i, (month, product) in enumerate((m, p) for m in months for p in products)
    ]


def test_inserted_facts_are_summed_over_products():
    customer = CustomerFactory()
    RxFactFactory(customer=customer, product="P1", nrx=1, trx=2, new_patient_starts=0)
    RxFactFactory(customer=customer, product="P2", nrx=4, trx=5, new_patient_starts=6)
    assert _total(customer, JAN) == (5, 7, 6)
    assert_totals_exact()


def test_changing_a_metric_changes_the_total():
    fact = RxFactFactory(nrx=1, trx=2, new_patient_starts=0)
    RxFactFactory(customer=fact.customer, product="P2")
    fact.trx = 10
    fact.save()
    assert _total(fact.customer, JAN) == (2, 12, 0)
    assert_totals_exact()


def test_moving_a_fact_to_another_month_moves_its_sums():
    fact = RxFactFactory(nrx=1, trx=2, new_patient_starts=3)
    RxFactFactory(customer=fact.customer, product="P2", nrx=1, trx=1, new_patient_starts=1)
    fact.month = FEB
    fact.save()
    assert _total(fact.customer, JAN) == (1, 1, 1)
    assert _total(fact.customer, FEB) == (1, 2, 3)
    assert_totals_exact()


def test_moving_a_fact_to_another_customer_moves_its_sums():
    fact = RxFactFactory(nrx=1, trx=2, new_patient_starts=3)
    old, new = fact.customer, CustomerFactory()
    fact.customer = new
    fact.save()
    assert _total(old, JAN) == (0, 0, 0)
    assert _total(new, JAN) == (1, 2, 3)
    assert_totals_exact()


def test_deleting_a_fact_subtracts_it():
    fact = RxFactFactory(nrx=1, trx=2, new_patient_starts=3)
    RxFactFactory(customer=fact.customer, product="P2", nrx=1, trx=1, new_patient_starts=1)
    fact.delete()
    assert _total(fact.customer, JAN) == (1, 1, 1)
    assert_totals_exact()


def test_bulk_create_is_summed():
    customers = [CustomerFactory() for _ in range(3)]
    RxFact.objects.bulk_create([f for c in customers for f in _facts(c)])
    # One row per customer and product of the year, and one for every product.
    assert RxYear.objects.count() == 3 * 4
    assert_totals_exact()


def test_bulk_create_upserting_existing_facts_adds_only_the_difference():
    if connection.vendor != "postgresql":
        # unique_rx_fact INCLUDEs the metrics, so SQLite has no such constraint
        # for ON CONFLICT to name.
        pytest.skip("needs unique_rx_fact (PostgreSQL only)")
    customer = CustomerFactory()
    RxFact.objects.bulk_create(_facts(customer, months=(JAN,)))
    changed = _facts(customer, months=(JAN, FEB))
    for fact in changed:
        fact.nrx += 10
    RxFact.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["customer", "month", "product"],
        update_fields=list(METRICS),
    )
    assert RxFact.objects.count() == 6
    assert_totals_exact()


def test_queryset_update_of_metrics_is_summed():
    customers = [CustomerFactory() for _ in range(2)]
    RxFact.objects.bulk_create([f for c in customers for f in _facts(c)])
    RxFact.objects.filter(product__in=["P1", "P3"]).update(nrx=F("nrx") * 3, trx=0)
    assert_totals_exact()


def test_queryset_update_moving_months_is_summed():
    customers = [CustomerFactory() for _ in range(2)]
    RxFact.objects.bulk_create([f for c in customers for f in _facts(c)])
    RxFact.objects.filter(month=FEB, product="P2").update(month=MAR)
    RxFact.objects.filter(month=JAN, product="P1").update(month=MAR)
    assert_totals_exact()


def test_queryset_update_moving_customers_is_summed():
    first, second = CustomerFactory(), CustomerFactory()
    RxFact.objects.bulk_create(_facts(first, products=("P1", "P2")))
    RxFact.objects.filter(customer=first, month=JAN).update(customer=second)
    assert _total(second, JAN) != (0, 0, 0)
    assert_totals_exact()


def test_queryset_delete_is_subtracted():
    customers = [CustomerFactory() for _ in range(2)]
    RxFact.objects.bulk_create([f for c in customers for f in _facts(c)])
    RxFact.objects.filter(product="P2").delete()
    RxFact.objects.filter(customer=customers[0], month=FEB).delete()
    assert_totals_exact()


def test_deleting_a_customer_removes_its_totals():
    gone, kept = CustomerFactory(), CustomerFactory()
    RxFact.objects.bulk_create(_facts(gone) + _facts(kept))
    gone.delete()
    assert not RxYear.objects.filter(customer_id=gone.pk).exists()
    assert RxYear.objects.filter(customer=kept).count() == 4
    assert_totals_exact()


def test_deleting_customers_in_bulk_removes_their_totals():
    customers = [CustomerFactory() for _ in range(3)]
    RxFact.objects.bulk_create([f for c in customers for f in _facts(c)])
    Customer.objects.filter(pk__in=[c.pk for c in customers[:2]]).delete()
    assert set(RxYear.objects.values_list("customer_id", flat=True)) == {customers[2].pk}
    assert_totals_exact()


def test_rx_import_inserting_and_upserting_keeps_totals_exact():
    npi = valid_npi(1)
    CustomerFactory(npi=npi)
    header = "npi,month,product,nrx,trx,new_patient_starts"
    run_import("rx", header, f"{npi},2026-02,CARDIOZEN,1,2,0", f"{npi},2026-02,LIPITRA,5,5,5")
    assert_totals_exact()
    run_import("rx", header, f"{npi},2026-02,CARDIOZEN,3,4,1", f"{npi},2026-03,CARDIOZEN,1,1,1")
    assert _total(Customer.objects.get(npi=npi), FEB) == (8, 9, 6)
    assert_totals_exact()


# -- PostgreSQL only -----------------------------------------------------------------


def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")


def test_truncating_the_facts_empties_the_table():
    _postgres_only()
    RxFact.objects.bulk_create(_facts(CustomerFactory()))
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks
        cursor.execute("TRUNCATE customers_rxfact")
    assert not RxYear.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_app_role_writes_facts_through_the_triggers_and_reads_the_sums():
    _postgres_only()
    customer = CustomerFactory()
    with app_role_cursor() as cursor:
        insert = (
            "INSERT INTO customers_rxfact (customer_id, month, product, nrx, trx, "
            "new_patient_starts) VALUES (%s, %s, %s, 1, 2, 3)"
        )
        cursor.execute(insert, [customer.pk, JAN, "P1"])
        cursor.execute(insert, [customer.pk, JAN, "P2"])
        cursor.execute("UPDATE customers_rxfact SET month = %s WHERE product = 'P2'", [FEB])
        cursor.execute("DELETE FROM customers_rxfact WHERE product = 'P1'")
        cursor.execute(
            "SELECT product, nrx_1, trx_1, nrx_2, trx_2, new_patient_starts_2 "
            "FROM customers_rxyear WHERE customer_id = %s ORDER BY product",
            [customer.pk],
        )
        assert cursor.fetchall() == [
            ("", 0, 0, 1, 2, 3),
            ("P1", 0, 0, 0, 0, 0),
            ("P2", 0, 0, 1, 2, 3),
        ]
    assert_totals_exact()


def test_a_fact_counts_under_its_product_and_every_product():
    customer = CustomerFactory()
    RxFactFactory(customer=customer, product="P1", month=MAR, nrx=1, trx=2, new_patient_starts=3)
    RxFactFactory(customer=customer, product="P2", month=MAR, nrx=4, trx=5, new_patient_starts=6)
    assert _total(customer, MAR, "P1") == (1, 2, 3)
    assert _total(customer, MAR, "P2") == (4, 5, 6)
    assert _total(customer, MAR) == (5, 7, 9)
    assert _total(customer, JAN) == (0, 0, 0)


def test_facts_of_different_years_have_their_own_rows():
    customer = CustomerFactory()
    december = dt.date(2025, 12, 1)
    RxFactFactory(customer=customer, product="P1", month=december, nrx=7, trx=7)
    RxFactFactory(customer=customer, product="P1", month=JAN, nrx=1, trx=1)
    assert _total(customer, december, "P1")[:2] == (7, 7)
    assert _total(customer, JAN, "P1")[:2] == (1, 1)
    assert sorted(RxYear.objects.values_list("product", "year")) == [
        ("", 2025),
        ("", 2026),
        ("P1", 2025),
        ("P1", 2026),
    ]
    assert_totals_exact()


def test_a_fact_without_a_product_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        RxFactFactory(product="")
