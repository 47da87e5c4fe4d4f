"""Discovery services, one module per job (docs/discovery.md):

* ``describe``: a list described as a rule;
* ``personas``: clusters of the population, each described by a rule;
* ``differentiators``: what sets a version's members apart;
* ``provenance``: what a draft saved from a suggestion records;
* ``common``: population, list matching, engine evaluation, sampling.
"""

from .describe import check_describe, describe_list
from .differentiators import segment_differentiators
from .personas import check_personas, find_personas
from .provenance import resolve_provenance

__all__ = [
    "check_describe",
    "check_personas",
    "describe_list",
    "find_personas",
    "resolve_provenance",
    "segment_differentiators",
]
