"""Page forms for segments: they parse the HTML inputs; services judge the content."""

from __future__ import annotations

import json

from django import forms

from core.parsers import loads_bounded

from .models import Purpose, Segment


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
    key = forms.CharField(
        max_length=64,
        help_text="Lower-case letters, digits, - and _; cannot change later.",
    )
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    purpose = forms.ChoiceField(choices=Purpose.choices)
    therapy_area = forms.CharField(max_length=100, required=False)
    indications = forms.CharField(
        required=False, help_text="Comma-separated, e.g. heart_failure, hypertension"
    )
    parent = forms.ChoiceField(required=False, help_text="Members must also be in this segment.")
    entry_rule = JSONRuleField()
    exit_rule = JSONRuleField(required=False, help_text="Optional. Blank: no exit rule.")

    def __init__(self, *args, editing: Segment | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        keys = Segment.objects.order_by("key").values_list("key", flat=True)
        if editing is not None:
            keys = keys.exclude(pk=editing.pk)
            del self.fields["key"]
        self.fields["parent"].choices = [("", "— none —")] + [(k, k) for k in keys]

    def clean_indications(self) -> list[str]:
        raw = self.cleaned_data.get("indications") or ""
        return [part.strip() for part in raw.split(",") if part.strip()]

    def service_fields(self) -> dict:
        """The cleaned values as the segment services take them."""
        data = dict(self.cleaned_data)
        data["parent"] = data.get("parent") or None
        return data


def initial_from_version(version) -> dict:
    """Form initial values from a stored version."""
    return {
        "name": version.name,
        "description": version.description,
        "purpose": version.purpose,
        "therapy_area": version.therapy_area,
        "indications": ", ".join(version.indications or []),
        "parent": version.parent.key if version.parent_id else "",
        "entry_rule": version.entry_rule,
        "exit_rule": version.exit_rule,
    }
