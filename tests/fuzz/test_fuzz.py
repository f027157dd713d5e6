"""The standing fuzz suite: generated hostile input never escapes as anything but a UserError.

A fixed budget of examples per kind keeps the whole module under two minutes; the example
database in tests/fuzz/examples/ (committed) replays every input that ever failed first.
`scripts/fuzz.sh` runs the same strategies for long campaigns, with hangs and memory counted.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from connector.errors import UserError
from tests.fuzz import strategies, targets

EXAMPLES = Path(__file__).resolve().parent / "examples"
BUDGET = {"expression": 400, "yaml": 300, "model": 150, "connector": 100, "worker": 200}

FUZZ = settings(database=DirectoryBasedExampleDatabase(str(EXAMPLES)), deadline=None,
                suppress_health_check=list(HealthCheck), print_blob=True)


def _survives(kind: str, data: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp, contextlib.suppress(UserError):
        targets.run(kind, data, Path(tmp) / "work")


@pytest.mark.parametrize("kind", targets.KINDS)
def test_generated_input_gives_a_clear_error_or_works(kind: str) -> None:
    """Every generated input of this kind is accepted or refused with a UserError."""
    strategy = dict(strategies.inputs_by_kind())[kind]

    @settings(FUZZ, max_examples=BUDGET[kind])
    @given(strategy)
    def check(data: Any) -> None:
        _survives(kind, data)

    check()
