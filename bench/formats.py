"""Encode rate per value format in one run, and the size of compressed local files.

Printed by bench/encode.py after its Avro figures (`--users`, `--ticks` size the file run).

Each round encodes the same columns (one engine-shaped batch) to per-record bytes in every
format, the formats interleaved so that load from other processes hits all alike; the figures
are min / median / max over the rounds and the median's ratio to the Avro path's median
(targets: JSON >= 0.70, Protobuf >= 0.70). Rates are of this thread's CPU time, so that other
processes on a shared machine do not make one format look slower than another. Then the banking
connector is run into local Avro files with each codec, and each size is given as a share of
the uncompressed files (target for zstd: <= 0.35).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from connector.destinations.local import CODECS, LocalDirectory
from connector.model.avro import LoadedSchema
from connector.runtime.config import parse_connector
from connector.runtime.runner import Runner
from connector.runtime.simulation import prepare
from connector.serde.formats import VALUE_FORMATS, Format
from connector.serde.values import value_encoder

ROOT = Path(__file__).resolve().parent.parent


def format_rates(schema: LoadedSchema, cols: dict[str, np.ndarray], n: int, repeat: int
                 ) -> dict[Format, list[float]]:
    """Records/s of each value format over `repeat` interleaved rounds."""
    encoders = {f: value_encoder(f, schema, 1) for f in VALUE_FORMATS}
    rates: dict[Format, list[float]] = {f: [] for f in VALUE_FORMATS}
    for encoder in encoders.values():
        encoder.encode(cols, n).values()  # warm up
    for _ in range(repeat):
        for f, encoder in encoders.items():
            started = time.thread_time()  # CPU time: others' load on a shared machine is not ours
            encoder.encode(cols, n).values()
            rates[f].append(n / (time.thread_time() - started))
    return rates


def print_rates(schema: LoadedSchema, cols: dict[str, np.ndarray], n: int, repeat: int) -> None:
    """Each format's rate, and its median ratio to Avro's over the rounds (paired per round, so
    that load from other processes, which drifts between rounds, cancels out); then the same
    with one tick's event times (the engine's without jitter: every timestamp of a batch
    equal)."""
    for label, columns in (("", cols), (", one tick's event times", _one_tick(schema, cols))):
        rates = format_rates(schema, columns, n, repeat)
        sizes = {f: sum(map(len, value_encoder(f, schema, 1).encode(columns, n).values())) / n
                 for f in VALUE_FORMATS}
        print(f"per format, {n} {schema.name} records{label}, to per-record bytes, {repeat} "
              "interleaved rounds (k rec/s min / median / max; paired ratio to avro; bytes):")
        for f, values in rates.items():
            ratio = statistics.median(r / a for r, a in zip(values, rates[Format.AVRO],
                                                             strict=True))
            target = "  (target >= 0.70)" if f in (Format.JSON, Format.PROTOBUF) else ""
            median = statistics.median(values)
            print(f"  {f.value:<12} {min(values) / 1e3:7.0f} / {median / 1e3:7.0f} / "
                  f"{max(values) / 1e3:7.0f}   {ratio:5.2f}x avro  {sizes[f]:6.1f} B{target}")


def _one_tick(schema: LoadedSchema, cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The columns with every timestamp field holding the first row's time."""
    out = dict(cols)
    for f in schema.fields:
        if f.logical_type is not None and "timestamp" in f.logical_type:
            out[f.name] = np.full(len(cols[f.name]), cols[f.name][0])
    return out


def file_sizes(users: int, ticks: int) -> dict[str, int]:
    """Total bytes of the banking connector's Avro files with each codec."""
    path = ROOT / "config" / "banking.json"
    data = json.loads(path.read_text())
    data["config"].update({"users": str(users), "ticks": str(ticks)})
    sim = prepare(parse_connector(data, str(path), path.parent))
    out: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for codec in CODECS:
            directory = Path(tmp) / codec
            destination = LocalDirectory(directory, dict(sim.model.schemas), "avro", codec)
            runner = Runner(sim, destination, list(range(sim.config.shards)))
            try:
                runner.resume()
                runner.run()
            finally:
                destination.close()
            out[codec] = sum(p.stat().st_size for p in directory.glob("*.avro"))
    return out


def print_sizes(users: int, ticks: int) -> None:
    sizes = file_sizes(users, ticks)
    plain = sizes["null"]
    print(f"banking, {users} users x {ticks} ticks, local Avro files (one block per tick):")
    for codec, size in sizes.items():
        target = "  (target <= 0.35)" if codec == "zstd" else ""
        print(f"  {codec:<8} {size / 1e6:8.2f} MB  {size / plain:5.2f} of uncompressed{target}")
