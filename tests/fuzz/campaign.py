"""Long fuzz campaigns (scripts/fuzz.sh): N generated inputs, tracebacks, hangs and memory counted.

The parent forks children (after importing everything, so a fork is cheap); each child runs a
batch of inputs drawn by hypothesis from tests/fuzz/inputs.py under an address-space limit
(RLIMIT_AS) and a per-input alarm on CPU time. Per input the child records what escaped: a
UserError is the expected clear refusal; any other exception is a traceback; an input using
more CPU time than the timeout is a hang (CPU, not wall time: the children run at nice 19 on
shared cores); an input after which the process's peak RSS exceeds the memory bound is a
memory blow-up. The first input of each new failure signature is shrunk by hypothesis and
written, minimised, to the failures folder. The parent kills a child whose input uses the
timeout's CPU time plus a grace period (a hang inside C code ignores the alarm), or blocks for
WALL_FACTOR times the timeout in wall time (a read that never returns), and reads every child's
peak RSS from wait4. The summary is JSON on stdout (and in the failures folder).

    python -m tests.fuzz.campaign --inputs 100000 --jobs 2 --out fuzz-failures
"""

from __future__ import annotations

import argparse
import json
import os
import pprint
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import HypothesisWarning

from connector.errors import UserError
from tests.fuzz import inputs, targets

if TYPE_CHECKING:
    from _typeshed import HasFileno

GRACE_SECONDS = 5.0
# Wall time after which a child blocked without using CPU (a read that never returns) is killed.
WALL_FACTOR = 12


class Hang(BaseException):
    """Raised by the alarm inside a child; a BaseException so product code cannot swallow it."""


class Found(Exception):
    """A new failure signature: tells hypothesis to shrink this input."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def _no_fsync(fd: int | HasFileno) -> None:
    """os.fsync in campaign children."""


def _signature(exc: BaseException) -> str:
    """Exception type plus the innermost frame in the product's code (or anywhere)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/connector/" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__}@{where}"


class Child:
    """One batch of inputs in a forked process; reports one JSON line per event on `pipe`."""

    def __init__(self, pipe: int, known: set[str], args: argparse.Namespace) -> None:
        self.pipe = pipe
        self.known = set(known)
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="doge-fuzz-"))
        self.count = 0
        self.shrinking: str | None = None
        self.minimal: dict[str, Any] = {}
        self.peak = 0

    def send(self, **event: Any) -> None:
        os.write(self.pipe, (json.dumps(event, default=repr) + "\n").encode())

    def execute(self, kind: str, data: Any) -> None:
        if self.shrinking is None:
            self.count += 1
            # For the parent, should it have to kill this process in the middle of the input.
            _current(self.args.out, os.getpid()).write_text(
                f"# kind: {kind}\n{data!r}\n", encoding="utf-8", errors="backslashreplace")
            self.send(event="start", n=self.count)
        else:
            self.send(event="beat")  # shrinking: alive, not a new input
        # CPU time, not wall time: at nice 19 on a busy machine a child may wait a long while.
        signal.setitimer(signal.ITIMER_PROF, self.args.timeout)
        failure: tuple[str, BaseException | None, str] | None = None
        try:
            targets.run(kind, data, self.work)
        except UserError:
            pass
        except Hang as exc:
            failure = ("hang", exc, f"Hang@{kind}")
        except MemoryError as exc:
            failure = ("memory", exc, f"MemoryError@{kind}")
        except Exception as exc:
            failure = ("traceback", exc, _signature(exc))
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        if failure is None and rss > self.args.memory_bound and rss > self.peak:
            failure = ("memory", None, f"RSS>{self.args.memory_bound}@{kind}")
        self.peak = max(self.peak, rss)
        if failure is None:
            return
        category, error, sig = failure
        text = (f"peak RSS {rss}" if error is None
                else "".join(traceback.format_exception(error)))
        if self.shrinking is None:
            self.send(event="failure", category=category, signature=sig, new=sig not in
                      self.known)
        if self.shrinking is not None and sig != self.shrinking:
            return  # another failure met while shrinking: a later batch will find it again
        if category != "traceback" or sig in self.known:
            if sig not in self.known:  # hangs and memory: recorded as found, not shrunk
                self.known.add(sig)
                self.save(sig, category, kind, data, text)
            return
        # A new traceback: let hypothesis shrink it; the last failing input is the minimal one.
        self.shrinking = sig
        self.minimal = {"kind": kind, "data": data, "text": text, "category": category}
        raise Found(sig)

    def save(self, sig: str, category: str, kind: str, data: Any, text: str) -> None:
        out = Path(self.args.out)
        out.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "@._-" else "_" for c in sig)[:120]
        body = (f"# {category}: {sig}\n# kind: {kind}\n# input (minimised for tracebacks):\n"
                f"{pprint.pformat(data, width=100)}\n\n{text}")
        (out / f"{name}.txt").write_text(body, encoding="utf-8", errors="backslashreplace")
        self.send(event="saved", signature=sig, file=str(out / f"{name}.txt"))

    def main(self, seed: int, batch: int) -> None:
        signal.signal(signal.SIGPROF, _alarm)
        warnings.simplefilter("ignore", HypothesisWarning)  # reprs of large inputs
        # Durability is not under test here; fsync on a shared disk would dominate the time.
        os.fsync = _no_fsync
        limit = self.args.address_space
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        @hypothesis_seed(seed)
        @settings(max_examples=batch, database=None, deadline=None, derandomize=False,
                  phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck),
                  report_multiple_bugs=False)
        @given(inputs.inputs())
        def fuzz(case: tuple[str, Any]) -> None:
            kind, data = case
            self.execute(kind, data)

        try:
            fuzz()
        except Found:
            self.save(self.shrinking or "?", self.minimal["category"], self.minimal["kind"],
                      self.minimal["data"], self.minimal["text"])
        except BaseException as exc:  # hypothesis itself failed: report, never hide
            self.send(event="failure", category="harness", signature=_signature(exc), new=True,
                      text="".join(traceback.format_exception(exc)))
        _current(self.args.out, os.getpid()).unlink(missing_ok=True)
        self.send(event="end", count=self.count)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _current(out: str, pid: int) -> Path:
    """Where a child keeps the input it is running."""
    return Path(out) / f"current-{pid}.txt"


def campaign(args: argparse.Namespace) -> dict[str, Any]:
    Path(args.out).mkdir(parents=True, exist_ok=True)
    known: set[str] = set()
    totals: dict[str, Any] = {"inputs": 0, "tracebacks": 0, "hangs": 0, "memory": 0,
                              "harness": 0, "killed": 0, "peak_rss_max": 0, "signatures": {}}
    running: dict[int, dict[str, Any]] = {}  # pid -> pipe, buffer, started, last start
    next_seed = args.seed
    started = time.monotonic()
    while totals["inputs"] < args.inputs or running:
        while len(running) < args.jobs and totals["inputs"] + sum(
                r["count"] for r in running.values()) < args.inputs:
            in_flight = sum(r["batch"] - r["count"] for r in running.values())
            batch = min(args.batch, args.inputs - totals["inputs"] - in_flight)
            if batch <= 0:
                break
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                os.nice(args.nice)
                try:
                    Child(write, known, args).main(next_seed, batch)
                finally:
                    os._exit(0)
            os.close(write)
            running[pid] = {"pipe": read, "buffer": b"", "count": 0, "batch": batch,
                            "input_started": time.monotonic(), "cpu_started": 0.0}
            next_seed += 1
        _poll(running, totals, known, args)
        _reap(running, totals, args)
        if args.progress and time.monotonic() - started > 0:
            rate = totals["inputs"] / (time.monotonic() - started)
            print(f"\r{totals['inputs']:,} inputs, {rate:,.0f}/s, tracebacks "
                  f"{totals['tracebacks']}, hangs {totals['hangs']}, memory {totals['memory']}",
                  end="", file=sys.stderr)
    totals["seconds"] = round(time.monotonic() - started, 1)
    totals["peak_rss_max_mib"] = round(totals.pop("peak_rss_max") / 2**20, 1)
    return totals


def _poll(running: dict[int, dict[str, Any]], totals: dict[str, Any], known: set[str],
          args: argparse.Namespace) -> None:
    pipes = {r["pipe"]: pid for pid, r in running.items() if r["pipe"] is not None}
    ready, _, _ = select.select(list(pipes), [], [], 0.5)
    for fd in ready:
        child = running[pipes[fd]]
        chunk = os.read(fd, 65536)
        if not chunk:
            os.close(fd)
            child["pipe"] = None
            continue
        child["buffer"] += chunk
        *lines, child["buffer"] = child["buffer"].split(b"\n")
        for line in lines:
            event = json.loads(line)
            if event["event"] in ("start", "beat"):
                child["count"] = event.get("n", child["count"])
                child["input_started"] = time.monotonic()
                child["cpu_started"] = _cpu_seconds(pipes[fd])
            elif event["event"] == "failure":
                category = {"traceback": "tracebacks", "hang": "hangs"}.get(
                    event["category"], event["category"])
                totals[category] = totals.get(category, 0) + 1
                sig = event["signature"]
                totals["signatures"][sig] = totals["signatures"].get(sig, 0) + 1
                known.add(sig)
            elif event["event"] == "end":
                child["count"] = event["count"]


def _reap(running: dict[int, dict[str, Any]], totals: dict[str, Any],
          args: argparse.Namespace) -> None:
    for pid, child in list(running.items()):
        cpu = _cpu_seconds(pid) - child["cpu_started"]
        wall = time.monotonic() - child["input_started"]
        if cpu > args.timeout + GRACE_SECONDS or wall > args.timeout * WALL_FACTOR:
            os.kill(pid, signal.SIGKILL)  # a hang the alarm could not interrupt
            totals["hangs"] += 1
            totals["killed"] += 1
            child["input_started"] = float("inf")
            current = _current(args.out, pid)
            if current.exists():
                current.rename(current.with_name(f"killed-hang-{pid}.txt"))
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done == 0:
            continue
        if child["pipe"] is not None:
            os.close(child["pipe"])
        totals["inputs"] += child["count"]
        totals["peak_rss_max"] = max(totals["peak_rss_max"], usage.ru_maxrss * 1024)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) != signal.SIGKILL:
            totals["harness"] += 1  # a child killed by a signal it did not expect (segfault)
            sig = f"signal{os.WTERMSIG(status)}"
            totals["signatures"][sig] = totals["signatures"].get(sig, 0) + 1
        del running[pid]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=500, help="inputs per forked child")
    parser.add_argument("--timeout", type=float, default=10.0, help="CPU seconds per input")
    parser.add_argument("--memory-bound", type=int, default=2**30,
                        help="peak RSS (bytes) above which an input counts as a blow-up")
    parser.add_argument("--address-space", type=int, default=3 * 2**30,
                        help="RLIMIT_AS of each child (bytes)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--nice", type=int, default=19)
    parser.add_argument("--out", default="fuzz-failures", help="folder of minimised failures")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    totals = campaign(args)
    if args.progress:
        print(file=sys.stderr)
    text = json.dumps({"seed": args.seed, **totals}, indent=1)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "summary.json").write_text(text + "\n")
    print(text)
    failed = totals["tracebacks"] + totals["hangs"] + totals["memory"] + totals["harness"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
