"""Page forms for segments: they parse the HTML inputs; services judge the content."""

from __future__ import annotations

import json

from django import forms

from core.parsers import loads_bounded
from core.plain_errors import KEY_RULE
from core.words import label
from customers.vocabularies import Indication

from .models import Purpose, Rollup, Segment, Unit
from .services import KEY_RE

KEY_MAX = 64


class JSONRuleField(forms.CharField):
    """A textarea holding a rule as JSON; blank means none (for the exit rule)."""

    widget = forms.Textarea(attrs={"rows": 8, "spellcheck": "false"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value or not value.strip():
            return None
        try:
            return loads_bounded(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from exc
        except ValueError as exc:  # NUL characters, nesting too deep, NaN
            raise forms.ValidationError(str(exc)) from exc

    def prepare_value(self, value):
        if isinstance(value, dict | list):
            return json.dumps(value, indent=2)
        return value


class SegmentForm(forms.Form):
    # No maxlength on the input: a browser would cut a long key silently, and keys never
    # change; clean_key refuses it in words instead.
    key = forms.CharField(
        help_text=(
            "Lower-case letters, digits, - and _, at most 64 characters; cannot change later."
        ),
    )
    unit = forms.ChoiceField(
        required=False,
        choices=[(Unit.CUSTOMER, "Customers (HCPs)"), (Unit.ACCOUNT, "Accounts (organizations)")],
        initial=Unit.CUSTOMER,
        help_text="What the members are; cannot change later.",
    )
    rollup = forms.ChoiceField(
        required=False,
        choices=[
            (Rollup.DIRECT, "Direct: the account's own customers"),
            (Rollup.HIERARCHY, "Hierarchy: also those of every account below it"),
        ],
        help_text="Account segments: which customers count as the account's.",
    )
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    purpose = forms.ChoiceField(choices=Purpose.choices)
    therapy_area = forms.CharField(max_length=100, required=False)
    indications = forms.MultipleChoiceField(
        required=False,
        choices=[(v, label(v)) for v in Indication.values],
        widget=forms.CheckboxSelectMultiple,
        help_text="From the controlled list of approved indications.",
        error_messages={"invalid_choice": "“%(value)s” is not on the list of indications."},
    )
    parent = forms.ChoiceField(required=False, help_text="Members must also be in this segment.")
    entry_rule = JSONRuleField()
    exit_rule = JSONRuleField(required=False, help_text="Optional. Blank: no exit rule.")
    # Set by "Open as draft" from a discovery suggestion (docs/discovery.md).
    provenance = JSONRuleField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, editing: Segment | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        keys = Segment.objects.order_by("key").values_list("key", flat=True)
        self.editing = editing
        if editing is not None:
            keys = keys.filter(unit=editing.unit).exclude(pk=editing.pk)
            del self.fields["key"]
            del self.fields["provenance"]
            del self.fields["unit"]
            if editing.unit != Unit.ACCOUNT:
                del self.fields["rollup"]
        self.fields["parent"].choices = [("", "— none —")] + [(k, k) for k in keys]

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        if len(key) > KEY_MAX:
            raise forms.ValidationError(
                f"is {len(key)} characters long; at most {KEY_MAX} are allowed. Keys never "
                "change, so choose a shorter one now."
            )
        if not KEY_RE.match(key):
            raise forms.ValidationError(f"must {KEY_RULE}.")
        return key

    def unit_fields(self) -> dict:
        """``unit`` and ``rollup`` as the preview takes them."""
        unit = self.editing.unit if self.editing is not None else self.cleaned_data.get("unit")
        unit = unit or Unit.CUSTOMER
        rollup = self.cleaned_data.get("rollup") or Rollup.DIRECT
        return {"unit": unit, "rollup": rollup if unit == Unit.ACCOUNT else None}

    def service_fields(self) -> dict:
        """The cleaned values as the segment services take them."""
        data = dict(self.cleaned_data)
        data["parent"] = data.get("parent") or None
        if "rollup" in data:
            data["rollup"] = self.unit_fields()["rollup"]
        if data.get("unit") in (None, "", Unit.CUSTOMER):
            data.pop("unit", None)
        if "provenance" in data and data["provenance"] is None:
            del data["provenance"]
        return data


def initial_from_query(params) -> dict:
    """Initial values of a new segment prefilled from the query string ("Open as draft").

    ``entry_rule`` and ``provenance`` are JSON; malformed JSON is ignored (the
    services validate whatever is finally submitted).
    """
    initial: dict = {"entry_rule": {"all": []}, "purpose": "promotional"}
    for name in ("name", "description", "key"):
        if params.get(name):
            initial[name] = params[name]
    for name in ("entry_rule", "provenance"):
        raw = params.get(name)
        if raw:
            try:
                initial[name] = json.loads(raw)
            except json.JSONDecodeError:
                continue
    return initial


def initial_from_version(version) -> dict:
    """Form initial values from a stored version."""
    return {
        "name": version.name,
        "description": version.description,
        "purpose": version.purpose,
        "therapy_area": version.therapy_area,
        "indications": list(version.indications or []),
        "parent": version.parent.key if version.parent_id else "",
        "entry_rule": version.entry_rule,
        "exit_rule": version.exit_rule,
        "rollup": version.rollup,
    }
