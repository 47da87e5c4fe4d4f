"""Read-only admin views of customer data.

Changes go through the import service (audit trail, recompute notification),
so the admin only looks; it never edits.
"""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Account, Customer, CustomerAttribute, ImportRun, Interaction, RxFact


class AttributeInline(admin.TabularInline):
    model = CustomerAttribute
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["account_id", "name", "account_type", "parent", "state", "territory"]
    list_filter = ["account_type", "formulary_status"]
    search_fields = ["account_id", "name"]


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["npi", "last_name", "first_name", "specialty", "decile", "territory"]
    list_filter = ["specialty", "credential"]
    search_fields = ["npi", "last_name"]
    inlines = [AttributeInline]


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ["customer", "occurred_at", "channel", "kind", "topic", "asset"]
    list_filter = ["channel", "kind"]
    raw_id_fields = ["customer"]


@admin.register(RxFact)
class RxFactAdmin(ReadOnlyAdmin):
    list_display = ["customer", "month", "product", "nrx", "trx", "new_patient_starts"]
    raw_id_fields = ["customer"]


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "kind", "file_name", "rows", "created", "updated", "user"]
    list_filter = ["kind"]
