"""Reads of discovery runs (docs/discovery.md): services write them, pages read them here."""

from __future__ import annotations

from core.errors import NotFound

from .models import DiscoveryRun


def run_get(*, pk: int) -> DiscoveryRun:
    """The discovery run ``pk`` (NotFound when there is none)."""
    run = DiscoveryRun.objects.filter(pk=pk).first()
    if run is None:
        raise NotFound(f"no discovery run {pk}", path="discovery")
    return run
