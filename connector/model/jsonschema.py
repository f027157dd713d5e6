"""The JSON Schema of model files, generated from the parser's own table (format.py).

Published as `schemas/model.schema.json`; a model that starts with
`# yaml-language-server: $schema=../../schemas/model.schema.json` gets completion and hover docs
in editors using the YAML language server (VS Code's YAML extension, Neovim, JetBrains ...).
`python -m connector.model.jsonschema > schemas/model.schema.json` regenerates it (a test fails
when the published file is out of date).
"""

from __future__ import annotations

import json
from typing import Any

from connector.model.format import MODEL, SECTIONS, Section


def _section(section: Section) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "description": section.doc,
        "properties": {k.name: {**k.schema, "description": k.doc} for k in section.keys},
        "additionalProperties": False,
    }
    if section.required:
        out["required"] = list(section.required)
    return out


def model_schema() -> dict[str, Any]:
    """The schema as data (draft 2020-12)."""
    root = _section(MODEL)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "doge-connect model", **root,
            "$defs": {s.name: _section(s) for s in SECTIONS if s is not MODEL}}


def model_schema_text() -> str:
    return json.dumps(model_schema(), indent=2) + "\n"


if __name__ == "__main__":
    print(model_schema_text(), end="")
