"""The seed article's banking example as a complete DOGE script, for doge-connect and for DOGE.

`build()` holds the article's generator and seven transitions line for line (the subject count,
tick count and seed are parameters); the subject factory, callbacks and value functions are
written here as the article describes them. The only line that differs between DOGE and
doge-connect is the import, chosen by DOGE_IMPL: `connector.doge` (default) or `doge_datagen`
(DOGE 1.0.4 itself, in its own virtualenv: bench/doge_compat.py runs it there).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from random import randrange
from typing import Any

doge: Any = importlib.import_module(os.environ.get("DOGE_IMPL", "connector.doge"))
DataOnlineGenerator, EventSink, SubjectFactory = \
    doge.DataOnlineGenerator, doge.EventSink, doge.SubjectFactory


@dataclass
class User:
    user_id: int
    balance: int
    loan: int
    last_payment: int

    def __hash__(self) -> int:  # DOGE keys its table of subjects by them
        return self.user_id


class UserFactory(SubjectFactory):  # type: ignore[misc, valid-type]
    def __init__(self) -> None:
        self.next_id = 0

    def create(self) -> User:
        user = User(self.next_id, randrange(0, 1000), 0, 0)
        self.next_id += 1
        return user


def income_callback(subject: User, transition: Any) -> bool:
    subject.balance += randrange(100, 1000)
    return True


def spending_callback(subject: User, transition: Any) -> bool:
    payment = randrange(10, 100)
    if payment > subject.balance:
        return False  # no spending without funds: the user stays, nothing is emitted
    subject.balance -= payment
    subject.last_payment = payment
    return True


def take_loan_callback(subject: User, transition: Any) -> bool:
    subject.loan += 10000
    subject.balance += 10000
    return True


def clickstream_value(timestamp: int, subject: User, transition: Any) -> dict[str, Any]:
    return {"user_id": str(subject.user_id), "event": transition.trigger, "timestamp": timestamp}


def trx_value(timestamp: int, subject: User, transition: Any) -> dict[str, Any]:
    return {"user_id": str(subject.user_id), "amount": subject.last_payment,
            "timestamp": timestamp}


def balance_value(timestamp: int, subject: User, transition: Any) -> dict[str, Any]:
    return {"user_id": str(subject.user_id), "balance": subject.balance, "timestamp": timestamp}


def loan_value(timestamp: int, subject: User, transition: Any) -> dict[str, Any]:
    return {"user_id": str(subject.user_id), "loan": subject.loan, "timestamp": timestamp}


def key_function(subject: User, transition: Any) -> dict[str, Any]:
    return {"key": str(subject.user_id)}


class Collect(EventSink):  # type: ignore[misc, valid-type]
    """A sink keeping its records in memory (what the benchmark and the tests read)."""

    def __init__(self, value_function: Any) -> None:
        self.value_function = value_function
        self.rows: list[dict[str, Any]] = []

    def collect(self, timestamp: int, subject: Any, transition: Any) -> None:
        self.rows.append(self.value_function(timestamp, subject, transition))


def collecting_sinks() -> dict[str, Collect]:
    return {"clickstream": Collect(clickstream_value), "trx": Collect(trx_value),
            "balance": Collect(balance_value), "loan": Collect(loan_value)}


def build(clickstream_sink: Any, trx_sink: Any, balance_sink: Any, loan_sink: Any,
          subjects: int = 10, ticks: int = 1000) -> Any:
    """The article's snippet (10 subjects and 1000 ticks there)."""
    datagen = DataOnlineGenerator(['offline', 'online', 'loan_screen'], 'offline', UserFactory(), subjects, 60000, ticks, 1644549708000)  # noqa: E501
    datagen.add_transition('income', 'offline', 'offline', 0.01,
                           action_callback=income_callback, event_sinks=[balance_sink])
    datagen.add_transition('spending', 'offline', 'offline', 0.1,
                           action_callback=spending_callback, event_sinks=[trx_sink, balance_sink])
    datagen.add_transition('login', 'offline', 'online', 0.1, event_sinks=[clickstream_sink])
    datagen.add_transition('logout', 'online', 'offline', 70, event_sinks=[])
    datagen.add_transition('open_loan_screen ', 'online', 'loan_screen', 30, event_sinks=[clickstream_sink])  # noqa: E501
    datagen.add_transition('close_loan_screen', 'loan_screen', 'online', 40, event_sinks=[clickstream_sink])  # noqa: E501
    datagen.add_transition('take_loan', 'loan_screen', 'online', 10,
                           action_callback=take_loan_callback, event_sinks=[clickstream_sink, loan_sink, balance_sink])  # noqa: E501
    return datagen
