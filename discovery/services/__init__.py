"""Discovery services, one module per job (docs/discovery.md):

* ``describe``: a list described as a rule;
* ``personas``: clusters of the population, each described by a rule;
* ``differentiators``: what sets a version's members apart;
* ``provenance``: what a draft saved from a suggestion records;
* ``common``: population, list matching, engine evaluation, sampling.

The names below load their module on first use: the learning libraries behind
them take seconds to import, and every process (each management command, the
app's ``ready``) would pay that even when it never discovers anything.
"""

from importlib import import_module

_HOMES = {
    "check_describe": "describe",
    "describe_list": "describe",
    "segment_differentiators": "differentiators",
    "check_personas": "personas",
    "find_personas": "personas",
    "resolve_provenance": "provenance",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
