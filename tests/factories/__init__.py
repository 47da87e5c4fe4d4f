"""factory-boy factories for every domain; small readable data."""

from .accounts import TerritoryFactory, UserFactory
from .customers import (
    AccountFactory,
    CustomerAttributeFactory,
    CustomerFactory,
    InteractionFactory,
    RxFactFactory,
    valid_npi,
)

__all__ = [
    "AccountFactory",
    "CustomerAttributeFactory",
    "CustomerFactory",
    "InteractionFactory",
    "RxFactFactory",
    "TerritoryFactory",
    "UserFactory",
    "valid_npi",
]
