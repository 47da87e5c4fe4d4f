"""Customer reads for the API and pages."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from .models import Customer, CustomerAttribute


def customer_list() -> QuerySet[Customer]:
    """Customers in NPI order, with what the list shows fetched in a fixed number of queries."""
    return (
        Customer.objects.select_related("account", "territory")
        .prefetch_related(
            Prefetch("attributes", queryset=CustomerAttribute.objects.order_by("key"))
        )
        .order_by("npi")
    )
