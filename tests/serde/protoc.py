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
    """The class protoc generates for the schema's message (once per process: protobuf's
    default pool refuses a second definition of a name)."""
    if schema.fullname not in _CLASSES:
        name = f"m{len(_CLASSES)}_{schema.fullname.replace('.', '_')}"
        (_DIR / f"{name}.proto").write_text(proto_text(schema))
        code = protoc.main(["protoc", f"-I{_DIR}", f"--python_out={_DIR}",
                            str(_DIR / f"{name}.proto")])
        assert code == 0, proto_text(schema)
        sys.path.insert(0, str(_DIR))
        try:
            module = importlib.import_module(f"{name}_pb2")
        finally:
            sys.path.remove(str(_DIR))
        _CLASSES[schema.fullname] = getattr(module, schema.fullname.rsplit(".", 1)[-1])
    return _CLASSES[schema.fullname]
