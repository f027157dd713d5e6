"""The long run of one user: the share of time in each state and how long a visit lasts.

With profiles, chances are averaged over the week first. When the model has final states
(churn), every user ends in one, so the share is the one among users still active (the
quasi-stationary distribution). Both come from the limit of `x0 * P^n`, computed by repeated
squaring of the lazy matrix `(I + P) / 2` (same limit, never periodic), rescaled at each step so
a sub-stochastic matrix does not vanish: 64 squarings reach n = 2**64, whatever the mixing time.
"""

from __future__ import annotations

import numpy as np

from connector.analysis.chain import Chain


def long_run_share(chain: Chain, p: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """Share of active users per product state in the long run from `x0` (0 for final ones)."""
    live = chain.live()
    q = p[np.ix_(live, live)]
    m = (np.eye(q.shape[0]) + q) / 2
    for _ in range(64):
        m = m @ m
        scale = m.max()
        if scale <= 0:
            break
        m /= scale
    start = x0[live]
    if start.sum() <= 0:
        start = chain.arrival[live]
    v = start @ m
    out = np.zeros(chain.size)
    if v.sum() > 0:
        out[live] = v / v.sum()
    return out


def state_share(chain: Chain, share: np.ndarray) -> np.ndarray:
    """The product-state share summed per base state."""
    return np.bincount(chain.base_of, weights=share, minlength=len(chain.state_names))


def mean_dwell_ticks(chain: Chain, chance: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Mean ticks a visit to each base state lasts (inf where users never leave): one over the
    chance per tick of a move to another state, weighted by the tracked values' share."""
    leave = chance[chain.entry_transition] * chain.entry_weight
    leaves = chain.base_of[chain.entry_from] != chain.base_of[chain.entry_to]
    per_product = np.bincount(chain.entry_from, weights=np.where(leaves, leave, 0.0),
                              minlength=chain.size)
    states = len(chain.state_names)
    weight = share.copy()
    for s in range(states):
        mine = chain.base_of == s
        if weight[mine].sum() <= 0:
            weight[mine] = 1.0  # never occupied in the long run: every value alike
    rate = np.bincount(chain.base_of, weights=weight * per_product, minlength=states) / \
        np.bincount(chain.base_of, weights=weight, minlength=states)
    with np.errstate(divide="ignore"):
        return np.where(rate > 0, 1.0 / np.maximum(rate, 1e-300), np.inf)
