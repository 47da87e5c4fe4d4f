"""Factories for activation: destinations (file under the configured root, or a webhook)."""

import factory

from activation.models import Destination


class DestinationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Destination

    key = factory.Sequence(lambda n: f"dest-{n}")
    name = factory.LazyAttribute(lambda o: o.key.title())
    channel = "email"
    kind = "webhook"
    url = "http://127.0.0.1:9/hook"
    secret = "s3cret-signing-key"
    directory = ""
