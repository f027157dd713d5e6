"""Readiness probes for scripts/kafka.sh, scripts/registry.sh and scripts/infra.sh.

    infra_probe.py kafka 127.0.0.1:19092 [--brokers N] [--timeout S] [--pid-file F]
    infra_probe.py http http://127.0.0.1:18081/apis/ccompat/v7/subjects [--timeout S] [--pid-file F]

Polls until the server answers (Kafka: an ApiVersions round trip, then, when confluent_kafka is
importable, a metadata request listing at least N brokers; HTTP: a 200), or the timeout passes, or
the process named by --pid-file dies. Exit codes: 0 ready, 1 timed out, 3 process died.
Standard library only, apart from the optional confluent_kafka metadata check.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import time
import urllib.error
import urllib.request

READY, TIMED_OUT, DIED = 0, 1, 3


def _alive(pid_file: str | None) -> bool:
    if not pid_file:
        return True
    try:
        with open(pid_file, encoding="ascii") as f:
            pid = int(f.read().strip())
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return False
    return state != "Z"


def _api_versions(host: str, port: int, timeout: float) -> bool:
    """Send an ApiVersions v0 request; True when the broker answers it without error."""
    client_id = b"doge-infra-probe"
    body = struct.pack(">hhih", 18, 0, 7, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            head = b""
            while len(head) < 10:
                chunk = sock.recv(10 - len(head))
                if not chunk:
                    return False
                head += chunk
    except OSError:
        return False
    _size, correlation_id, error_code = struct.unpack(">iih", head)
    return bool(correlation_id == 7 and error_code == 0)


def _metadata_brokers(bootstrap: str, timeout: float) -> int:
    """Number of brokers in a metadata answer (confluent_kafka), or -1 without confluent_kafka."""
    try:
        from confluent_kafka.admin import AdminClient  # noqa: PLC0415
    except ImportError:
        return -1
    # log_level 0: no librdkafka chatter on stderr while the broker is still booting.
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    try:
        return len(admin.list_topics(timeout=timeout).brokers)
    except Exception:
        return 0


def probe_kafka(bootstrap: str, brokers: int, deadline: float, pid_file: str | None) -> int:
    host, _, port = bootstrap.split(",", maxsplit=1)[0].rpartition(":")
    while True:
        if not _alive(pid_file):
            return DIED
        if _api_versions(host, int(port), 2.0):
            found = _metadata_brokers(bootstrap, 3.0)
            if found < 0 or found >= brokers:
                return READY
        if time.monotonic() >= deadline:
            return TIMED_OUT
        time.sleep(0.25)


def probe_http(url: str, deadline: float, pid_file: str | None) -> int:
    while True:
        if not _alive(pid_file):
            return DIED
        try:
            with urllib.request.urlopen(url, timeout=3.0) as resp:
                if resp.status == 200:
                    return READY
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() >= deadline:
            return TIMED_OUT
        time.sleep(0.25)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["kafka", "http"])
    parser.add_argument("target", help="bootstrap host:port, or a URL")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--brokers", type=int, default=1)
    parser.add_argument("--pid-file")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout
    os.environ.setdefault("no_proxy", "127.0.0.1,localhost")
    if args.kind == "kafka":
        return probe_kafka(args.target, args.brokers, deadline, args.pid_file)
    return probe_http(args.target, deadline, args.pid_file)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
