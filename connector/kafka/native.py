"""Columnar batches into librdkafka in one C call (`connector/kafka/_produce.c`), when it is safe.

Why not `Producer.produce()` per record: on the task's main thread it costs ~600-800 ns a
record, plus a bytes object per key and value built beforehand; the C loop calls the same
`rd_kafka_producev` with the same flags on the same client handle, ~3x cheaper per record
(bench/kafka.py prints the tick breakdown). confluent-kafka has no batch call that takes
per-record timestamps (`produce_batch` refuses them), and the event time is each record's
timestamp, so this gap is filled here.

The path is used only when everything checks out (and DOGE_KAFKA_NATIVE is not "0"), else
`unavailable()` says why and the caller produces record by record (the same records):
- the extension was compiled (it is optional at install);
- confluent-kafka is a 2.x release (its Handle struct starts with the `rd_kafka_t` pointer);
- exactly one librdkafka is mapped into the process (read from /proc/self/maps, i.e. the one
  confluent-kafka loaded) and its version is the one confluent-kafka reports;
- the handle read from a producer is a producer's (`rd_kafka_type`) and carries the client
  name librdkafka gave it (`rd_kafka_name`: "<client.id>#producer-<n>").
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import attrs
import confluent_kafka
import numpy as np
from confluent_kafka import Producer

from connector.serde.records import Records

SWITCH = "DOGE_KAFKA_NATIVE"  # "0": produce record by record (an operator's way back)
_RD_KAFKA_PRODUCER = 0
_HANDLE_OFFSET = ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)  # PyObject_HEAD


@attrs.frozen
class _Library:
    extension: ModuleType
    addresses: tuple[int, int, int]  # rd_kafka_producev, rd_kafka_topic_new, _topic_destroy
    kafka_type: Callable[[int], int]  # rd_kafka_type
    kafka_name: Callable[[int], bytes | None]  # rd_kafka_name


@functools.cache
def _library() -> _Library | str:
    """The extension and librdkafka's entry points, or why the C path is not safe here."""
    if os.environ.get(SWITCH, "1") == "0":
        return f"{SWITCH}=0"
    try:
        extension = importlib.import_module("connector.kafka._produce")
    except ImportError:
        return "the C extension is not built (no C compiler at install?)"
    version = str(getattr(confluent_kafka, "__version__", ""))
    if not version.startswith("2."):
        return f"confluent-kafka {version} is not a 2.x release"
    paths = {line.split()[-1] for line in _maps() if "librdkafka" in Path(line.split()[-1]).name}
    if len(paths) != 1:
        return f"{len(paths)} librdkafka libraries are loaded, not one"
    lib = ctypes.CDLL(paths.pop())
    lib.rd_kafka_version.restype = ctypes.c_int
    if lib.rd_kafka_version() != confluent_kafka.libversion()[1]:
        return "the loaded librdkafka is not the version confluent-kafka reports"
    lib.rd_kafka_type.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_type.restype = ctypes.c_int
    lib.rd_kafka_name.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_name.restype = ctypes.c_char_p
    addresses = tuple(ctypes.cast(getattr(lib, name), ctypes.c_void_p).value or 0 for name in
                      ("rd_kafka_producev", "rd_kafka_topic_new", "rd_kafka_topic_destroy"))
    return _Library(extension, (addresses[0], addresses[1], addresses[2]), lib.rd_kafka_type,
                    lib.rd_kafka_name)


def _maps() -> list[str]:
    """The file-backed lines of this process's memory map (none where there is no /proc)."""
    try:
        text = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if len(line.split()) >= 6]


def unavailable(producer: Producer) -> str | None:
    """Why `produce` may not be used with this producer (None: it may)."""
    library = _library()
    if isinstance(library, str):
        return library
    if type(producer) is not Producer:
        return f"{type(producer).__name__} is not confluent-kafka's Producer"
    handle = ctypes.c_void_p.from_address(id(producer) + _HANDLE_OFFSET).value
    if not handle or library.kafka_type(handle) != _RD_KAFKA_PRODUCER:
        return "the producer's handle is not a librdkafka producer"
    name = library.kafka_name(handle)
    if not isinstance(name, bytes) or b"#producer-" not in name:
        return "the producer's handle does not carry a producer's name"
    return None


def available(producer: Producer) -> bool:
    """Whether `produce` may be used with this producer."""
    return unavailable(producer) is None


def produce(producer: Producer, records: Records, first: int = 0) -> tuple[int, int]:
    """Produce records `first`.. into the producer's queue (as produce() does: copied, to the
    record's partition, with its timestamp); returns (index of the first record not produced,
    librdkafka's error code for it), (len(records), 0) when all went in. Records with headers
    are not taken (produce() them one by one). Only after `available(producer)`."""
    library = _library()
    assert not isinstance(library, str), "available() comes first"
    assert records.headers is None, "headers go through produce()"
    values, keys = records.value_batch, records.key_batch
    offsets = values.offsets
    dense = np.ascontiguousarray
    result: tuple[int, int] = library.extension.produce(
        producer, library.addresses, records.topic, first, len(records), values.buffer,
        dense(offsets[:-1]), np.diff(offsets), keys.buffer, dense(keys.starts, np.int64),
        dense(keys.lengths, np.int64), dense(records.partition_array, np.int32),
        dense(records.timestamp_array, np.int64))
    return result
