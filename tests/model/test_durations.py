"""Durations as users write them: units, plain milliseconds and ISO-8601."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.model.durations import parse_duration_ms
from connector.model.validate import load_model
from tests.helpers import model_file


@pytest.mark.parametrize(("text", "ms"), [
    ("17h", 61_200_000), ("500ms", 500), ("1m", 60_000), ("2d", 172_800_000), ("1500", 1500),
    (250, 250), ("PT17H", 61_200_000), ("P1D", 86_400_000), ("pt90m", 5_400_000),
    ("P1DT12H", 129_600_000), ("PT0.5S", 500), ("P1W", 604_800_000)])
def test_accepted_forms(text: object, ms: float) -> None:
    """Unit suffixes, plain milliseconds and ISO-8601 durations give the same milliseconds."""
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize(("text", "message"), [
    ("P1M", "years and months have no fixed length"), ("P1Y", "years and months"),
    ("-PT1H", "expected a duration"), ("PT1e5H", "not an ISO-8601 duration"),
    ("P99999999999D", "not an ISO-8601 duration"), ("17 hours", "PT17H"),
    (float("nan"), "finite"), (-1, "finite"), (True, "expected a duration"), ("²", "expected")])
def test_refused_forms_say_what_is_expected(text: object, message: str) -> None:
    """A bad duration raises ValueError naming the accepted forms (no other exception)."""
    with pytest.raises(ValueError, match=message):
        parse_duration_ms(text)


def test_iso_durations_in_a_model(tmp_path: Path) -> None:
    """`every: PT17H` on a transition and `arrivals: {every: PT10M}` validate like `17h`/`10m`."""
    path = model_file(tmp_path, {
        "states": ["a"], "population": {"arrivals": {"every": "PT10M"}},
        "transitions": [{"name": "x", "from": "a", "to": "a", "every": "PT17H"}]})
    spec = load_model(path).spec
    assert spec.transitions[0].every_ms == 17 * 3_600_000
    assert spec.population.arrivals_per_ms == pytest.approx(1 / 600_000)
