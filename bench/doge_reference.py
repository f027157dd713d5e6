"""A reference implementation of DOGE's per-user loop, written from the seed article's description.

Each tick, every user draws one random number against the cumulative chances of its state's
transitions; a callback may veto the move (returns False); sinks build one record per event.
Used only as the baseline that bench/engine.py compares the vectorised engine against.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import attrs


@attrs.define
class User:
    user_id: int
    state: str
    balance: int
    loan: int = 0
    last_amount: int = 0


@attrs.frozen
class Transition:
    name: str
    source: str
    target: str
    probability: float  # percent per tick, as in DOGE
    callback: Callable[[User], bool] | None
    sinks: tuple[str, ...]


class ReferenceGenerator:
    """DOGE-style: a list of users stepped one by one in Python."""

    def __init__(self, users: int, seed: int, start_ms: int, tick_ms: int) -> None:
        self.rand = random.Random(seed)
        self.users = [User(i, "offline", self.rand.randint(0, 1000)) for i in range(users)]
        self.start_ms, self.tick_ms = start_ms, tick_ms
        self.by_state: dict[str, list[Transition]] = {}
        for t in _banking(self.rand):
            self.by_state.setdefault(t.source, []).append(t)
        self.tick = 0
        self.events: list[tuple[str, dict[str, Any]]] = []

    def step(self) -> int:
        """One tick over every user; returns the number of events built."""
        events = self.events = []
        timestamp = self.start_ms + self.tick * self.tick_ms
        rand = self.rand.uniform
        for user in self.users:
            r = rand(0, 100)
            cumulative = 0.0
            for t in self.by_state[user.state]:
                cumulative += t.probability
                if r < cumulative:
                    if t.callback is None or t.callback(user):
                        user.state = t.target
                        for sink in t.sinks:
                            events.append((sink, _record(sink, user, t.name, timestamp)))
                    break
        self.tick += 1
        return len(events)


def _record(sink: str, user: User, event: str, timestamp: int) -> dict[str, Any]:
    record: dict[str, Any] = {"user_id": str(user.user_id), "timestamp": timestamp}
    if sink == "clickstream":
        record["event"] = event
    elif sink == "balance":
        record["balance"] = user.balance
    elif sink == "loan":
        record["loan"] = user.loan
    elif sink == "trx":
        record["amount"] = user.last_amount
    return record


def _banking(rand: random.Random) -> list[Transition]:
    def income(user: User) -> bool:
        user.balance += rand.randint(100, 1000)
        return True

    def spending(user: User) -> bool:
        amount = rand.randint(10, 100)
        if user.balance < amount:
            return False
        user.balance -= amount
        user.last_amount = amount
        return True

    def take_loan(user: User) -> bool:
        user.balance += 10000
        user.loan = 10000
        return True

    return [
        Transition("income", "offline", "offline", 0.01, income, ("balance",)),
        Transition("spending", "offline", "offline", 0.1, spending, ("trx", "balance")),
        Transition("login", "offline", "online", 0.1, None, ("clickstream",)),
        Transition("logout", "online", "offline", 70, None, ()),
        Transition("open_loan_screen", "online", "loan_screen", 30, None, ("clickstream",)),
        Transition("close_loan_screen", "loan_screen", "online", 40, None, ("clickstream",)),
        Transition("take_loan", "loan_screen", "online", 10, take_loan,
                   ("clickstream", "loan", "balance")),
    ]
