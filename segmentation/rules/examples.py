"""The worked example of docs/rules.md, as data: one copy for the demo, the bench and the tests.

HCPs in cardiology or endocrinology, decile 7 or higher, who attended a webinar
in the last 90 days or had two rep visits in the last 30, outside CA; they
leave after 180 days with no interaction at all. Copy before changing it.
"""

from __future__ import annotations

EXAMPLE_ENTRY_RULE: dict = {
    "all": [
        {"field": "specialty", "op": "in", "value": ["cardiology", "endocrinology"]},
        {"field": "decile", "op": "gte", "value": 7},
        {
            "any": [
                {"event": {"channel": "webinar", "kind": "attended"}, "within_days": 90},
                {
                    "event": {"channel": "rep_visit"},
                    "within_days": 30,
                    "count": {"op": "gte", "value": 2},
                },
            ]
        },
        {"not": {"field": "state", "op": "eq", "value": "CA"}},
    ]
}
EXAMPLE_EXIT_RULE: dict = {"event": {}, "within_days": 180, "count": {"op": "eq", "value": 0}}
