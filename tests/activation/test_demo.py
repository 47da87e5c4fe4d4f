"""The demo publication: made once through the services, dated back for the chart."""

from __future__ import annotations

import pytest
from django.utils import timezone

from activation.demo import seed_activation_demo
from activation.models import Publication, PublicationMember

from .support import active_version, approved_mapping, cardiologists

pytestmark = pytest.mark.django_db


def test_demo_publishes_once_with_a_holdout(make_user, django_capture_on_commit_callbacks):
    make_user("admin", username="admin")
    brand = make_user("brand", username="brand")
    version = active_version(brand, customers=cardiologists(5))
    approved_mapping(version, brand)
    with django_capture_on_commit_callbacks(execute=True):
        message = seed_activation_demo(weeks=8)
    publication = Publication.objects.get()
    assert "published" in message and publication.holdout_percent == 20
    assert publication.last_sync == 1
    assert (timezone.now() - publication.created_at).days >= 55
    assert all(
        (timezone.now() - m.since).days >= 55
        for m in PublicationMember.objects.filter(publication=publication)
    )
    assert seed_activation_demo() == "activation demo: already seeded"
    assert Publication.objects.count() == 1
