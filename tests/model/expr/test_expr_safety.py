"""Expressions are data: no code execution, hostile input is a clean error, numpy speed."""

from __future__ import annotations

import io
import itertools
import re
import time
import tokenize
from pathlib import Path

import numpy as np
import pytest

import connector.model.expr as expr_pkg
from connector.model.expr import (
    EvalContext,
    ExprError,
    ExprType,
    SiteCounter,
    TypeEnv,
    check,
    compile_expr,
    parse,
)

PACKAGE = Path(expr_pkg.__file__).parent
FORBIDDEN = {"eval", "exec", "compile", "__import__"}


def sources() -> list[Path]:
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) > 5
    return files


def test_no_eval_exec_or_compile_in_package_source() -> None:
    """The package never runs config text as Python: no eval/exec/compile( calls at all."""
    for path in sources():
        text = path.read_text()
        assert not re.search(r"\b(eval|exec|compile|__import__)\s*\(", text), path
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        for tok, nxt in itertools.pairwise(tokens):
            if tok.type == tokenize.NAME and tok.string in FORBIDDEN:
                assert nxt.string != "(", f"{path.name}:{tok.start[0]} calls {tok.string}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('id')", "unexpected character '.'"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("balance.__class__", "unexpected character '.'"),
        ("eval('1')", "unknown function 'eval'"),
        ("lambda: 1", "unexpected character ':'"),
        ("balance[0]", "expected an operator before '['"),
        ("`id`", "unexpected character '`'"),
    ],
)
def test_hostile_text_is_a_plain_expression_error(text: str, message: str) -> None:
    """Python-looking payloads are just unknown names or syntax errors."""
    with pytest.raises(ExprError) as info:
        check(parse(text), TypeEnv({"balance": ExprType.LONG}))
    assert info.value.message.startswith(message), info.value.message


def best_of(fn: object, repeat: int = 3) -> float:
    assert callable(fn)
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def test_million_rows_evaluate_at_numpy_speed() -> None:
    """1e6 rows evaluate in well under a second: no per-row Python anywhere on the path."""
    n = 1_000_000
    rng = np.random.default_rng(0)
    env = TypeEnv({"balance": ExprType.LONG, "amount": ExprType.DOUBLE, "state": ExprType.STRING})
    columns = {
        "balance": rng.integers(0, 1000, n),
        "amount": rng.random(n) * 1000,
        "state": np.array(["online", "offline"], dtype=object)[rng.integers(0, 2, n)],
    }

    def streams(site: int) -> np.random.Generator:
        return np.random.default_rng([1, site])

    ctx = EvalContext(n, columns, rng=streams)
    for text in ["balance + randint(10, 500)", "balance >= amount and state == 'online'"]:
        compiled = compile_expr(check(parse(text), env, SiteCounter()))
        # Per-row Python would take seconds; the measured figure is ~5-20 ms.
        assert best_of(lambda c=compiled: c.evaluate(ctx)) < 0.25, text
