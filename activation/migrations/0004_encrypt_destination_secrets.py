# Webhook secrets encrypted at rest (docs/activation.md, "Secrets at rest"): the
# column becomes text long enough for a Fernet token, and every secret already
# stored in plain text is encrypted with the newest DESTINATION_SECRET_KEY.

from django.db import migrations

import activation.encryption


def _rewrite(schema_editor, change) -> None:
    # Raw SQL: the field class would decrypt on read, and these values are not tokens yet.
    connection = schema_editor.connection
    table = connection.ops.quote_name("activation_destination")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, secret FROM {table} WHERE secret <> ''")
        for pk, value in cursor.fetchall():
            new = change(value)
            if new != value:
                cursor.execute(f"UPDATE {table} SET secret = %s WHERE id = %s", [new, pk])


def encrypt_plain_secrets(apps, schema_editor):
    from activation.encryption import encrypt, is_token

    _rewrite(schema_editor, lambda value: value if is_token(value) else encrypt(value))


def decrypt_secrets(apps, schema_editor):
    from activation.encryption import decrypt, is_token

    _rewrite(schema_editor, lambda value: decrypt(value) if is_token(value) else value)


class Migration(migrations.Migration):
    dependencies = [
        ("activation", "0003_no_fk_checks_on_members"),
    ]

    operations = [
        migrations.AlterField(
            model_name="destination",
            name="secret",
            field=activation.encryption.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt_plain_secrets, decrypt_secrets),
    ]
