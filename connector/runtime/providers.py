"""Kafka Connect's config providers: `${env:NAME}`, `${file:path:key}`, `${directory:dir:file}`.

A worker config names its providers (`config.providers=env,file` and
`config.providers.<name>.class`, Connect's class names or the short names); references in the
worker's own values and in connector configs resolve against them. Configs are stored and
answered over REST unresolved (Connect's masking: GET shows the `${...}` text); the resolved
text exists only in memory, and every resolved value is hidden from the logs
(`connector.logging.hide`) and from error messages. Like Connect's KIP-993, the file providers
read only under `config.providers.<name>.param.allowed.paths` when it is set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from connector.errors import Problem, UserError
from connector.logging import hide, scrub
from connector.runtime.config import ConnectorConfig, parse_connector
from connector.runtime.properties import read_properties

PREFIX = "config.providers"
# Connect's pattern: ${provider:[path:]key}
REFERENCE = re.compile(r"\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}")
CLASSES = {
    "org.apache.kafka.common.config.provider.EnvVarConfigProvider": "env",
    "org.apache.kafka.common.config.provider.FileConfigProvider": "file",
    "org.apache.kafka.common.config.provider.DirectoryConfigProvider": "directory",
}
KINDS = ("env", "file", "directory")


@attrs.frozen
class Provider:
    """One configured provider: its kind and its `param.*` settings."""

    name: str
    kind: str
    params: dict[str, str] = attrs.Factory(dict)

    def get(self, path: str | None, key: str) -> str:
        """The value, or a ValueError saying what is missing (never a value)."""
        if self.kind == "env":
            pattern = self.params.get("allowlist.pattern")
            if pattern and re.fullmatch(pattern, key) is None:
                raise ValueError(f"environment variable {key} is not allowed by "
                                 f"{PREFIX}.{self.name}.param.allowlist.pattern")
            if key not in os.environ:
                raise ValueError(f"environment variable {key} is not set")
            return os.environ[key]
        if not path:
            raise ValueError(f"expected ${{{self.name}:path:key}}")
        where = self._allowed(Path(path))
        if self.kind == "directory":
            if "/" in key or key in ("", ".", ".."):
                raise ValueError(f"expected a file name in {path}, got {key!r}")
            try:
                return (where / key).read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"cannot read {where / key}: {exc.strerror or exc}") from None
        try:
            values = read_properties(where)
        except UserError as exc:
            raise ValueError(" ".join(str(exc).split())) from None
        if key not in values:
            raise ValueError(f"{path} has no key {key!r}")
        return values[key]

    def _allowed(self, path: Path) -> Path:
        real = path.resolve()
        allowed = [a.strip() for a in self.params.get("allowed.paths", "").split(",")
                   if a.strip()]
        if allowed and not any(real.is_relative_to(Path(a).resolve()) for a in allowed):
            raise ValueError(f"{path} is outside {PREFIX}.{self.name}.param.allowed.paths "
                             f"({', '.join(allowed)})")
        return real


@attrs.frozen
class Providers:
    """The providers a worker config names (none: references are left as they are)."""

    by_name: dict[str, Provider] = attrs.Factory(dict)

    def resolve(self, values: Mapping[str, Any], file: str | None, path_prefix: str = ""
                ) -> dict[str, Any]:
        """`values` with every reference replaced; the config.providers keys stay as they are.
        Problems name the key and the reference, never a resolved value."""
        problems: list[Problem] = []
        out: dict[str, Any] = {}
        for key, value in values.items():
            if not isinstance(value, str) or key.startswith(PREFIX) or "${" not in value:
                out[key] = value
                continue
            out[key] = REFERENCE.sub(self._substitute(key, file, path_prefix, problems), value)
        if problems:
            raise UserError(problems)
        return out

    def _substitute(self, key: str, file: str | None, path_prefix: str,
                    problems: list[Problem]) -> Callable[[re.Match[str]], str]:
        def one(match: re.Match[str]) -> str:
            name, path, item = match.group(1), match.group(2), match.group(3)
            provider = self.by_name.get(name)
            if provider is None:
                if name in KINDS:  # plainly meant as a provider: say how to configure it
                    problems.append(Problem(
                        f"{match.group(0)} names the config provider '{name}', which the worker "
                        f"config does not declare: add {PREFIX}={name}", file=file,
                        path=f"{path_prefix}{key}"))
                return match.group(0)  # Connect leaves unknown providers' text alone
            try:
                resolved = provider.get(path, item)
            except ValueError as exc:
                problems.append(Problem(f"{match.group(0)}: {exc}", file=file,
                                        path=f"{path_prefix}{key}"))
                return match.group(0)
            hide(resolved)
            return resolved
        return one


def providers_from(values: Mapping[str, str], file: str | None) -> Providers:
    """The providers declared by `config.providers` and `config.providers.<name>.*`."""
    names = [n.strip() for n in values.get(PREFIX, "").split(",") if n.strip()]
    problems: list[Problem] = []
    found = {}
    for name in names:
        cls = values.get(f"{PREFIX}.{name}.class", name)
        kind = CLASSES.get(cls, cls if cls in KINDS else None)
        if kind is None:
            problems.append(Problem(
                f"unknown config provider class {cls!r}; known: " + ", ".join(
                    [*CLASSES, *KINDS]), file=file, path=f"{PREFIX}.{name}.class"))
            continue
        params = {k.removeprefix(f"{PREFIX}.{name}.param."): v for k, v in values.items()
                  if k.startswith(f"{PREFIX}.{name}.param.")}
        found[name] = Provider(name, kind, params)
    if problems:
        raise UserError(problems)
    return Providers(found)


def scrubbed(exc: UserError) -> UserError:
    """The same error with every resolved secret masked (values parsed after resolution)."""
    return UserError([attrs.evolve(p, message=scrub(p.message)) for p in exc.problems])


def resolve_connector(data: Any, providers: Providers, file: str | None) -> Any:
    """A connector document (`{"name", "config"}`) with its config's references resolved."""
    if not providers.by_name and not _mentions_provider(data):
        return data
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        return data  # parse_connector says what is wrong with its shape
    return {**data, "config": providers.resolve(data["config"], file, "config.")}


def parse_resolved(data: Any, file: str | None, base_dir: Path, providers: Providers, *,
                   confined: bool = False) -> ConnectorConfig:
    """parse_connector over the resolved document; its problems mask the resolved values."""
    resolved = resolve_connector(data, providers, file)
    try:
        return parse_connector(resolved, file, base_dir, confined=confined)
    except UserError as exc:
        raise scrubbed(exc) from None


def _mentions_provider(data: Any) -> bool:
    config = data.get("config") if isinstance(data, dict) else None
    return isinstance(config, dict) and any(
        isinstance(v, str) and "${" in v for v in config.values())
