"""exp and pow give the C library's bytes whatever SIMD kernels numpy picks on this CPU."""

from __future__ import annotations

import math

import numpy as np

from connector.model.expr import portable
from connector.model.expr.ops import power, round_digits


def test_exp_is_the_c_library_value_bit_for_bit() -> None:
    """lognormal()'s exp equals math.exp on every value (numpy's AVX-512 exp does not)."""
    x = np.random.default_rng(5).standard_normal(100_000) * 3
    expected = np.array([math.exp(v) for v in x.tolist()])
    assert portable.exp(x).tobytes() == expected.tobytes()


def test_exp_overflow_and_specials_are_ieee() -> None:
    """Overflow gives +inf (not an error), -inf gives 0, NaN stays NaN; scalars stay scalars."""
    out = portable.exp(np.array([800.0, -np.inf, np.inf, 0.0]))
    assert out.tolist() == [np.inf, 0.0, np.inf, 1.0]
    assert np.isnan(portable.exp(np.array([np.nan]))[0])
    assert portable.exp(1.0) == math.e


def test_power_is_the_c_library_value_bit_for_bit() -> None:
    """'**' equals math.pow on ordinary values, broadcasting a scalar against a column."""
    rng = np.random.default_rng(6)
    base, exponent = rng.random(50_000) * 10, rng.standard_normal(50_000) * 4
    expected = np.array([math.pow(a, b) for a, b in zip(base.tolist(), exponent.tolist(),
                                                         strict=True)])
    assert power(base, exponent).tobytes() == expected.tobytes()
    assert power(2.0, np.array([10.0, -1.0])).tolist() == [1024.0, 0.5]


def test_power_without_a_finite_answer_gives_the_ieee_value() -> None:
    """0 to a negative power is inf, a negative base to a fraction NaN, overflow inf, an odd
    integer power keeps the sign: as numpy gave, never an exception."""
    out = power(np.array([0.0, -8.0, 10.0, -2.0, -10.0]),
                np.array([-1.0, 1 / 3, 400.0, 3.0, 401.0]))
    assert out[0] == np.inf and np.isnan(out[1]) and out[2] == np.inf
    assert out[3] == -8.0 and out[4] == -np.inf


def test_round_to_digits_uses_the_portable_power() -> None:
    """round(x, n) still rounds half away from zero at n places, n negative too."""
    assert round_digits(np.array([1.2345, 2.5, 1250.0]), np.array([2, 0, -2])).tolist() == \
        [1.23, 3.0, 1300.0]
