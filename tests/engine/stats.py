"""Sound statistical bounds for tests, each at a stated false-alarm rate (no scipy needed).

The tests are seeded, so they are deterministic; the bounds make sure a correct engine passes for
any seed with probability at least 1 - ALPHA, and a wrong one (a rate off by a few percent at
these sample sizes) fails.
"""

from __future__ import annotations

import math

ALPHA = 1e-6  # false-alarm rate of every statistical assertion in the suite
Z = 4.891638  # two-sided standard normal quantile for ALPHA (Phi^-1(1 - ALPHA / 2))


def binomial_bounds(n: int, p: float, z: float = Z) -> tuple[float, float]:
    """Acceptance interval of a Binomial(n, p) count (normal approximation, n*p*(1-p) large)."""
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    return mean - z * sd, mean + z * sd


def poisson_bounds(lam: float, z: float = Z) -> tuple[float, float]:
    return lam - z * math.sqrt(lam), lam + z * math.sqrt(lam)


def chi_square(observed: list[int], expected: list[float]) -> float:
    return sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))


def chi_square_critical(df: int, alpha: float = ALPHA) -> float:
    """Upper critical value of chi-square with `df` degrees of freedom (Wilson-Hilferty)."""
    if df == 2:
        return -2 * math.log(alpha)  # exact for two degrees of freedom
    h = 2 / (9 * df)
    return df * (1 - h + Z * math.sqrt(h)) ** 3
