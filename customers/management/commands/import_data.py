"""``manage.py import_data --kind KIND FILE``: the command-line door to the import service."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from customers.services import all_kinds, import_file


class Command(BaseCommand):
    help = (
        "Import accounts, customers, interactions or rx from CSV or XLSX (docs/imports.md), "
        "or a public file: nppes, taxonomy, partd, alignment (docs/sources.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=all_kinds())
        parser.add_argument("file", help="path of a .csv or .xlsx file")
        parser.add_argument(
            "--user",
            help="username recorded as the importer (must hold admin or brand); "
            "default: the system",
        )
        parser.add_argument(
            "--data-year", help="partd: the year the Part D file covers (the file has none)"
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        user = None
        if options.get("user"):
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user '{options['user']}'")
        try:
            result = import_file(
                kind=options["kind"],
                file=path,
                file_name=path.name,
                user=user,
                options={"data_year": options.get("data_year") or ""},
            )
        except DomainError as exc:
            # One line per problem, exactly ``row N: column: message``.
            for error in exc.errors:
                self.stderr.write(str(error))
            raise SystemExit(1) from None
        self.stdout.write(result.summary())
