"""What `doge run` prints at the end: where it stopped, transitions fired (silent ones named)
apart from events emitted per topic, and what to do next."""

from __future__ import annotations

import time

from connector.cli.progress import sim_time
from connector.runtime.runner import Runner


def summary(runner: Runner, output: str | None, stopped: bool) -> str:
    stats = runner.stats
    config = runner.sim.config
    elapsed = max(time.monotonic() - stats.started, 1e-9)
    spec = runner.sim.model.spec
    lines = [f"{'stopped' if stopped else 'done'}: connector '{config.name}' at tick "
             f"{runner.next_tick:,} ({sim_time(runner, runner.next_tick)} UTC): "
             f"{sum(stats.fired.values()):,} transitions fired, {stats.events:,} events "
             f"emitted in {elapsed:.1f}s ({stats.events / elapsed:,.0f} events/s), "
             f"{stats.commits:,} commits"]
    if output:
        lines.append(f"output: {output}")
    width = max([len(t.name) for t in spec.transitions] + [len(t.name) for t in spec.topics]
                + [20])
    lines.append("transitions fired:")
    for t in spec.transitions:
        targets = ", ".join(e.topic for e in t.emits) or "silent: emits nothing"
        lines.append(f"  {t.name:<{width}} {stats.fired.get(t.name, 0):>12,}  -> {targets}")
    lines.append("events emitted per topic:")
    lines += [f"  {t.name:<{width}} {stats.per_topic.get(t.name, 0):>12,}" for t in spec.topics]
    silent = [t.name for t in spec.transitions if not t.emits]
    if silent:
        lines.append(f"silent transitions (they move users, emit nothing): {', '.join(silent)}")
    if stopped:
        lines.append("run the same command again to resume")
    return "\n".join(lines)


def finished(runner: Runner, total: int, output: str | None) -> str:
    """The message for a run that has nothing left to do."""
    where = f" in {output}" if output else ""
    return (f"connector '{runner.sim.config.name}' already finished: {total:,} ticks committed"
            f"{where} (simulated {sim_time(runner, 0)} to {sim_time(runner, total)} UTC). "
            f"To extend it, run again with --ticks N (N > {total:,}); to start over, add "
            "--reset.")
