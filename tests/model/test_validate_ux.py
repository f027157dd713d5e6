"""How validation reports: one error per mistake (no cascades), in file order, with columns in
the text the user wrote."""

from __future__ import annotations

from pathlib import Path

from connector.errors import Problem
from connector.model.source import load_file
from connector.model.validate import collect_problems

EVENTS = "{type: record, name: E, fields: [{name: user_id, type: long}, {name: x, type: long}]}"


def _problems(tmp: Path, text: str) -> list[Problem]:
    path = tmp / "m.yaml"
    path.write_text(text)
    return collect_problems(load_file(path), tmp)[1]


def test_unknown_initial_state_reports_once(tmp_path: Path) -> None:
    """An unknown `initial` is one error: not also population.arrival_state (defaulted from it)
    nor 'never reached' warnings for every state."""
    found = _problems(tmp_path, "states: [a, b]\ninitial: nowhere\ntransitions:\n"
                                "  - {name: t, from: a, to: b, chance: 1}\n")
    assert [(p.path, p.line) for p in found] == [("initial", 2)]
    assert "unknown state 'nowhere'" in found[0].message


def test_arrival_state_written_in_the_file_is_still_checked(tmp_path: Path) -> None:
    """An arrival state the user wrote is checked on its own line."""
    found = _problems(tmp_path, "states: [a]\npopulation:\n  arrival_state: b\ntransitions: []\n")
    assert [(p.path, p.line) for p in found] == [("population.arrival_state", 3)]


def test_broken_attribute_and_var_do_not_cascade(tmp_path: Path) -> None:
    """An attribute with a bad type, or a var with a bad expression, is reported where it is
    defined, not again at every condition, update and emitted field that uses it."""
    found = _problems(tmp_path, f"""states: [a]
attributes:
  x: {{type: lng}}
topics:
  events: {{schema: {EVENTS}}}
transitions:
  - name: t
    from: a
    to: a
    chance: 1
    vars: {{v: "x + 1", w: "1 +"}}
    condition: "x > 1 and w > 0"
    update: ["x = v"]
    emit: [events]
""")
    assert [(p.path, p.line) for p in found] == [("attributes.x.type", 3),
                                                 ("transitions[0].vars.w", 11)]


def test_problems_come_in_line_order(tmp_path: Path) -> None:
    """Problems are sorted by line, whatever stage found them."""
    found = _problems(tmp_path, """states: [a]
transitions:
  - {name: t, from: a, to: a, chance: 1, condition: "1 +"}
  - {name: u, from: nowhere, to: a, chance: 1}
attributes:
  y: {type: lng}
""")
    lines = [p.line or 0 for p in found]
    assert len(found) == 3 and lines == sorted(lines)


def test_update_columns_count_in_the_written_text(tmp_path: Path) -> None:
    """`balance += amonut` reports the column of `amonut` in what the user wrote, quoting it,
    not in a rewritten `balance + (amonut)`."""
    found = _problems(tmp_path, """states: [a]
attributes: {balance: long, other: long}
transitions:
  - name: t
    from: a
    to: a
    chance: 1
    update: ["balance  +=  amonut", "other = 'x'"]
""")
    messages = [p.message for p in found]
    assert any("unknown name 'amonut'" in m and "(column 14 of 'balance  +=  amonut')" in m
               for m in messages), messages
    assert not any("balance + (" in m for m in messages)
    assert any("""but "other = 'x'" is STRING""" in m for m in messages), messages
