import factory

from accounts.models import RoleAssignment, Territory, User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Territory {o.code}")


class UserFactory(factory.django.DjangoModelFactory):
    """A user; ``roles=[...]`` and ``territories=[...]`` (objects or codes) after creation.

    Every factory user's password is ``DEFAULT_PASSWORD``.
    """

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.LazyAttribute(lambda o: f"{o.username.title()} Example")
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            RoleAssignment.objects.get_or_create(user=self, role=role)
        self.forget_roles()

    @factory.post_generation
    def territories(self, create, extracted, **kwargs):
        for territory in extracted or []:
            if isinstance(territory, str):
                territory, _ = Territory.objects.get_or_create(code=territory)
            self.territories.add(territory)
