"""django-filter sets for the customer API."""

from __future__ import annotations

import django_filters

from .models import Customer
from .vocabularies import Specialty


class CustomerFilter(django_filters.FilterSet):
    """``?npi=&territory=&specialty=`` (exact; several values comma-separated for npi)."""

    npi = django_filters.BaseInFilter(field_name="npi", lookup_expr="in")
    territory = django_filters.CharFilter(field_name="territory_id")
    specialty = django_filters.ChoiceFilter(choices=Specialty.choices)
    state = django_filters.CharFilter(field_name="state", lookup_expr="iexact")
    account = django_filters.CharFilter(field_name="account_id")

    class Meta:
        model = Customer
        fields = ["npi", "territory", "specialty", "state", "account"]
