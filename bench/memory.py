"""Resident memory of this process, for the benchmarks' bytes-per-user figures."""

from __future__ import annotations

import resource


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()
