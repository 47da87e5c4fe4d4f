"""Provenance of a draft saved from a discovery suggestion (docs/discovery.md).

Registered with ``segmentation.provenance`` when the app is ready, so
``POST /api/v1/segments/`` (and the segment form) can accept
``"provenance": {"discovery": ID, "persona"?: INDEX}`` while segmentation never
imports discovery. The resolver only reads; the save and its audit events
happen in segmentation's transaction.
"""

from __future__ import annotations

from typing import Any

from accounts.permissions import require
from core.errors import ErrorDetail, ValidationFailed
from core.time import iso_z

from ..models import DiscoveryKind, DiscoveryRun


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def resolve_provenance(*, user, provenance: Any, entry_rule: Any = None) -> dict[str, Any]:
    """The provenance stored on the version: what the run measured, copied from the run."""
    require(user, "run_discovery")
    if not isinstance(provenance, dict):
        raise ValidationFailed(
            'must be an object {"discovery": ID, "persona"?: INDEX}', path="provenance"
        )
    unknown = sorted(set(provenance) - {"discovery", "persona"})
    if unknown:
        raise ValidationFailed(
            errors=[ErrorDetail(f"provenance.{k}", "unknown key") for k in unknown]
        )
    run_id = provenance.get("discovery")
    if not _int(run_id):
        raise ValidationFailed("must be a discovery run id", path="provenance.discovery")
    run = DiscoveryRun.objects.filter(pk=run_id).first()
    if run is None:
        raise ValidationFailed(f"no discovery run {run_id}", path="provenance.discovery")
    persona = provenance.get("persona")
    result = run.result or {}
    out: dict[str, Any] = {
        "discovery": run.pk,
        "kind": run.kind,
        "method": run.method,
        "as_of": iso_z(run.as_of),
        "parent": run.parent_key or None,
        "population": run.population,
        "run_by": run.user.username,
        "run_at": iso_z(run.created_at),
    }
    if run.kind == DiscoveryKind.DESCRIBE:
        if persona is not None:
            raise ValidationFailed(
                "a describe run has no personas; leave persona out", path="provenance.persona"
            )
        suggested = result.get("entry_rule")
        out |= {
            "positives": run.positives,
            "list_size": run.list_size,
            "npis_sha256": run.npis_sha256,
            "selected": result.get("selected"),
            "metrics": result.get("metrics"),
            "holdout": result.get("holdout"),
            "verdict": result.get("verdict"),
        }
    else:
        personas = result.get("personas") or []
        if not _int(persona) or not 0 <= persona < len(personas):
            raise ValidationFailed(
                f"must be a persona index from 0 to {len(personas) - 1}",
                path="provenance.persona",
            )
        chosen = personas[persona]
        suggested = chosen.get("entry_rule")
        out |= {
            "persona": persona,
            "label": chosen.get("label"),
            "size": chosen.get("size"),
            "k": result.get("k"),
            "fidelity": chosen.get("fidelity"),
        }
    out["edited"] = entry_rule is not None and entry_rule != suggested
    return out
