"""Rewrite the README's connector and worker config tables from the config tables in the code.

    .venv/bin/python scripts/config_tables.py        # tests/runtime/test_configdef.py checks it
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connector.runtime.config import CONNECTOR_CONFIG  # noqa: E402
from connector.runtime.configdef import ConfigDef  # noqa: E402
from connector.runtime.worker_config import WORKER_CONFIG  # noqa: E402

SECTIONS: dict[str, ConfigDef] = {"## Connector config (Kafka Connect format)": CONNECTOR_CONFIG,
                                  "## Worker config": WORKER_CONFIG}


def with_tables(readme: str) -> str:
    """The README text with the first table of each section replaced by the generated one."""
    lines = readme.splitlines(keepends=True)
    for title, table in SECTIONS.items():
        start = next(i for i, line in enumerate(lines) if line.rstrip() == title)
        first = next(i for i in range(start, len(lines)) if lines[i].startswith("|"))
        end = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")),
                   len(lines))
        lines[first:end] = [table.markdown()]
        lines = "".join(lines).splitlines(keepends=True)
    return "".join(lines)


def main() -> None:
    path = ROOT / "README.md"
    path.write_text(with_tables(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
