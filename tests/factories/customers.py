import datetime as dt

import factory

from customers.models import Account, Customer, CustomerAttribute, Interaction, RxFact


def npi_check_digit(first9: str) -> str:
    """Luhn check digit over '80840' + the first nine digits (docs/imports.md)."""
    digits = [int(c) for c in "80840" + first9]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def valid_npi(n: int) -> str:
    first9 = f"1{n:08d}"
    return first9 + npi_check_digit(first9)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    account_id = factory.Sequence(lambda n: f"ACC{n:05d}")
    name = factory.Sequence(lambda n: f"General Hospital {n}")
    account_type = "hospital"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    npi = factory.Sequence(valid_npi)
    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Lovelace{n}")
    specialty = "cardiology"


class CustomerAttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAttribute

    customer = factory.SubFactory(CustomerFactory)
    key = "adoption_stage"
    value = "early"


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    occurred_at = factory.LazyFunction(lambda: dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC))
    channel = "email"
    kind = "opened"


class RxFactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RxFact

    customer = factory.SubFactory(CustomerFactory)
    month = dt.date(2026, 1, 1)
    product = "CARDIOZEN"
    nrx = 1
    trx = 2
    new_patient_starts = 0
