"""`doge preview`: states before -> after, silent moves on request, rounded doubles."""

from __future__ import annotations

import itertools
import re

from click.testing import CliRunner

from connector.cli.app import cli


def _preview(*args: str) -> list[list[str]]:
    result = CliRunner().invoke(cli, ["preview", *args])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:6] == ["time", "user", "transition", "state", "topic", "fields"]
    return [re.split(r"\s{2,}", line.strip()) for line in lines[1:]]


def test_preview_shows_state_before_and_after() -> None:
    """Each row names the state the user left and the one it entered."""
    rows = _preview("banking", "--show", "5", "--limit", "40")
    moves = {(r[2], r[3]) for r in rows}
    assert ("login", "offline -> online") in moves
    assert all(r[3] == "online -> loan_screen" for r in rows if r[2] == "open_loan_screen")
    assert all(r[2] != "logout" for r in rows)  # silent: hidden without --all


def test_preview_all_includes_silent_moves() -> None:
    """--all adds moves that emit nothing, so a login after a login has its logout between."""
    rows = _preview("banking", "--show", "5", "--limit", "60", "--all")
    logouts = [r for r in rows if r[2] == "logout"]
    assert logouts and all(r[3] == "online -> offline" and r[4] == "-" for r in logouts)
    assert all(r[5] == "(silent: emits nothing)" for r in logouts)
    for user in {r[1] for r in rows}:
        seen = [r for r in rows if r[1] == user]
        # Consecutive moves chain: each one starts where the previous one ended.
        pairs = [r[3].split(" -> ") for r in seen]
        deduped = [p for i, p in enumerate(pairs) if i == 0 or seen[i][0] != seen[i - 1][0]]
        assert all(a[1] == b[0] for a, b in itertools.pairwise(deduped)), seen


def test_preview_rounds_doubles() -> None:
    """Doubles print with two decimals (temperature=45.12, not 45.123456789)."""
    rows = _preview("iot", "--show", "3", "--limit", "10")
    temps = [m for r in rows for m in re.findall(r"temperature=(\S+)", r[5])]
    assert temps and all(re.fullmatch(r"-?\d+\.\d\d", t) for t in temps), temps
