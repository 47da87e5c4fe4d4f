"""Page forms for assets: they parse HTML inputs; ``content.services`` judges the content
(docs/governance.md, "Content assets")."""

from __future__ import annotations

from django import forms

from core.words import label
from customers.vocabularies import Channel, Indication

from .models import Audience, Intent


def _choices(values) -> list[tuple[str, str]]:
    return [(v, label(v)) for v in values]


class AssetForm(forms.Form):
    """Create an asset or edit a draft / in-review one (content fields and expiry)."""

    code = forms.CharField(
        max_length=64, help_text="The MLR system's code, e.g. US-CARD-0042; cannot change later."
    )
    title = forms.CharField(max_length=300)
    audience = forms.ChoiceField(choices=_choices(Audience.values))
    intent = forms.ChoiceField(choices=_choices(Intent.values))
    therapy_area = forms.CharField(max_length=100, required=False)
    indications = forms.MultipleChoiceField(
        choices=_choices(Indication.values),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="From the controlled list of approved indications.",
    )
    channels = forms.MultipleChoiceField(
        choices=_choices(Channel.values),
        required=False,  # the service refuses none, with the other problems at once
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick every channel the MLR approval covers (at least one).",
    )
    mlr_reference = forms.CharField(max_length=100, required=False, label="MLR reference")
    expires_at = forms.DateField(
        required=False,
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="00:00 UTC that day. Set by compliance.",
    )
    link = forms.URLField(required=False, max_length=500)

    def __init__(
        self,
        *args,
        editing: bool = False,
        locked: bool = False,
        may_set_expiry: bool = True,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
        if locked:  # approved, expired or withdrawn: the MLR record fixes the content
            for name in ("title", "audience", "intent", "therapy_area", "indications", "channels"):
                del self.fields[name]
        if not may_set_expiry:
            del self.fields["expires_at"]

    def service_data(self) -> dict:
        """The cleaned values as ``create_asset`` / ``update_asset`` take them."""
        data = dict(self.cleaned_data)
        if "expires_at" in data:
            data["expires_at"] = data["expires_at"].isoformat() if data["expires_at"] else None
        return data


def initial_from_asset(asset) -> dict:
    return {
        "title": asset.title,
        "audience": asset.audience,
        "intent": asset.intent,
        "therapy_area": asset.therapy_area,
        "indications": asset.indications,
        "channels": asset.channels,
        "mlr_reference": asset.mlr_reference,
        "expires_at": asset.expires_at.date() if asset.expires_at else None,
        "link": asset.link,
    }
