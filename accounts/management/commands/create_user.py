"""Create or update a user.

``create_user --username U --full-name "Jane Doe" --role R [--role R ...] [--territory CODE ...]``

Reads the password from the first line of standard input (an empty one is
refused). Running it again for an existing user updates name, roles,
territories and password.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role
from accounts.services import user_upsert
from core.errors import DomainError


class Command(BaseCommand):
    help = "Create or update a user with roles and territories; password on stdin."
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--full-name", required=True, dest="full_name")
        parser.add_argument(
            "--role", action="append", required=True, dest="roles", choices=Role.values
        )
        parser.add_argument("--territory", action="append", default=[], dest="territories")

    def handle(self, *args, username, full_name, roles, territories, **options):
        stdin = options.get("stdin") or sys.stdin
        line = stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CommandError("refused: the password (first line of standard input) is empty")
        try:
            user = user_upsert(
                username=username,
                full_name=full_name,
                roles=roles,
                territories=territories,
                password=password,
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"user {user.username}: roles {', '.join(sorted(user.role_names))}; "
            f"territories {', '.join(sorted(t.code for t in user.territories.all())) or 'none'}"
        )
