"""Rendering of user errors: what reaches the terminal."""

from __future__ import annotations

from connector.errors import Problem


def test_render_escapes_terminal_controls_and_broken_text() -> None:
    """A state name holding an escape sequence or a lone surrogate prints as visible escapes."""
    problem = Problem("unknown state '\x1b[2J\ud800'", file="m.yaml", line=3)
    assert problem.render() == "error: m.yaml:3: unknown state '\\x1b[2J\\ud800'"
