"""Message classes compiled by the real protoc (grpcio-tools) from the .proto we register."""

from __future__ import annotations

import importlib
import sys
import tempfile
from pathlib import Path
from typing import Any

from grpc_tools import protoc

from connector.model.avro import LoadedSchema
from connector.serde.protobuf import proto_text

_CLASSES: dict[str, Any] = {}
_DIR = Path(tempfile.mkdtemp(prefix="doge-protoc-"))


def message_class(schema: LoadedSchema) -> Any:
    """The class protoc generates for the schema's derived message (once per process)."""
    message = schema.fullname.rsplit(".", 1)[-1]
    return compiled(proto_text(schema), message, f"m{schema.fullname.replace('.', '_')}")


def compiled(text: str, message: str, module: str) -> Any:
    """The class protoc generates for `message` of the .proto `text` (each module once per
    process: protobuf's default pool refuses a second definition of a name)."""
    if module not in _CLASSES:
        (_DIR / f"{module}.proto").write_text(text)
        code = protoc.main(["protoc", f"-I{_DIR}", f"--python_out={_DIR}",
                            str(_DIR / f"{module}.proto")])
        assert code == 0, text
        sys.path.insert(0, str(_DIR))
        try:
            _CLASSES[module] = importlib.import_module(f"{module}_pb2")
        finally:
            sys.path.remove(str(_DIR))
    return getattr(_CLASSES[module], message)
