"""The README's "Layout" section stays true to the tree: every package listed, and the layer line
the one import-linter enforces."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _layout() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]


def test_the_layout_lists_every_package() -> None:
    """Each package under connector/ has its line in the Layout tree."""
    layout = _layout()
    packages = sorted(p.parent.name for p in (ROOT / "connector").glob("*/__init__.py"))
    assert packages
    assert [p for p in packages if f"connector/{p}/" not in layout] == []


def test_the_layer_line_is_the_import_linter_contract() -> None:
    """The README's `a > b | c > ...` line names .importlinter's layers, top to bottom."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    layers = [line.strip() for line in
              config["importlinter:contract:layers"]["layers"].strip().splitlines()]
    line = re.search(r"^`(cli[^`]*)`\.$", _layout(), re.MULTILINE)
    assert line is not None
    assert line.group(1) == " > ".join(layers)
