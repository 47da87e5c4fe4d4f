"""An account's page (its customers, coverage, the account segments it is in) and a
customer's page (master data, influence, the segments they are in)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.mixins import page_permission
from customers.models import Account, Coverage, Customer, Influence

from .models import AccountMembershipSpell, Membership

CUSTOMERS_SHOWN = 100


@page_permission("view_segments")
def account_detail(request: HttpRequest, account_id: str) -> HttpResponse:
    account = get_object_or_404(Account.objects.select_related("parent"), pk=account_id)
    customers = account.customers.order_by("last_name", "npi")
    segments = (
        AccountMembershipSpell.objects.filter(account=account, exited_as_of__isnull=True)
        .select_related("version__segment")
        .order_by("version__segment__key", "version__number")
    )
    context = {
        "account": account,
        "children": account.children.order_by("account_id"),
        "customers": customers[:CUSTOMERS_SHOWN],
        "customer_count": customers.count(),
        "coverage": Coverage.objects.filter(account=account).order_by("product", "-effective_from"),
        "segments": segments,
    }
    return render(request, "segmentation/account_detail.html", context)


@page_permission("view_segments")
def customer_detail(request: HttpRequest, npi: str) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.select_related("account"), npi=npi)
    influence = (
        Influence.objects.filter(customer=customer)
        .select_related("network")
        .order_by("-network__period_end")
    )
    segments = (
        Membership.objects.filter(customer=customer)
        .select_related("version__segment")
        .order_by("version__segment__key", "version__number")
    )
    context = {
        "customer": customer,
        "influence": influence[:12],
        "segments": segments,
    }
    return render(request, "segmentation/customer_detail.html", context)
