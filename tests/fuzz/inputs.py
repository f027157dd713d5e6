"""Every kind of fuzz input with its strategy: what tests/fuzz/test_fuzz.py and the campaign
(tests/fuzz/campaign.py) draw from; the kinds are those of tests/fuzz/targets.py."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.fuzz import rest_strategies as rest
from tests.fuzz import strategies as s


def inputs_by_kind() -> list[tuple[str, st.SearchStrategy[Any]]]:
    """The strategy of each kind of tests/fuzz/targets.py."""
    return [
        ("expression", s.expression()),
        ("yaml", s.yaml_text()),
        ("model", st.tuples(s.model(), st.booleans())),
        ("connector", st.tuples(s.model(), s.connector_config(),
                                st.sampled_from((False, True, "inline")))),
        ("worker", s.worker_config()),
        ("rest", st.one_of(rest.rest_request(),
                           rest.rest_config_request())),
    ]


def inputs() -> st.SearchStrategy[tuple[str, Any]]:
    """(target kind, input), all kinds mixed."""
    return st.one_of(*(st.tuples(st.just(kind), strategy)
                       for kind, strategy in inputs_by_kind()))
