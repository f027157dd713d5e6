"""Load YAML or JSON documents into plain data while remembering the line of every value.

JSON is read with the YAML reader too (JSON is YAML's flow style), so both formats give the same
structure and every error can name `file:line` and a path such as `transitions[3].condition`.

The reader is built for hostile input (files arrive over REST): libyaml's event parser (no
recursion, its own nesting limit), composed here into plain values with one depth limit, aliases
whose expanded size counts against a budget (a "billion laughs" is refused, an alias inside its
own anchor too), only plain JSON-like values (tags such as `!!python/object` are refused), and
file rules (see `check_model_path`) before a byte is read.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import attrs
import yaml

from connector.errors import Problem, UserError
from connector.model.numbers import MAX_DIGITS, shorten

# Limits of one document; README "Limits" documents them.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64  # nested mappings/lists (a model needs about 8)
MAX_VALUES = 200_000  # values after expanding aliases
MAX_TEXT_CHARS = 16 * 1024 * 1024  # characters of all strings after expanding aliases
MODEL_SUFFIXES = (".yaml", ".yml", ".json")
JSON_SUFFIXES = (".json", ".avsc")
# Pseudo-filesystems whose "files" are process or device state, never a model.
SPECIAL_ROOTS = ("/proc", "/sys", "/dev")

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed
_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {f"{_TAG}{t}" for t in ("null", "bool", "int", "float", "str")}


@attrs.frozen
class Document:
    """Parsed data plus `lines`: path string -> 1-based line where that value starts."""

    data: Any
    file: str | None
    lines: dict[str, int]

    def line(self, path: str) -> int | None:
        """Line of `path`, or of its nearest enclosing value that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get("")

    def problem(self, path: str, message: str, severity: str = "error") -> Problem:
        return Problem(message, file=self.file, path=path or None, line=self.line(path),
                       severity=severity)

    def sub(self, path: str, data: Any) -> Document:
        """A view on a nested value whose paths stay relative to this document's root."""
        return Document(data, self.file, self.lines)


def child_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


class _Frame:
    """A mapping or list being composed."""

    __slots__ = ("anchor", "chars", "container", "key", "key_line", "path", "values")

    def __init__(self, container: dict[str, Any] | list[Any], path: str, anchor: str | None,
                 values: int, chars: int) -> None:
        self.container = container
        self.path = path
        self.anchor = anchor
        self.key: str | None = None  # a mapping's key waiting for its value
        self.key_line = 0
        self.values, self.chars = values, chars  # budget used when the frame opened


class _Composer:
    """Events -> plain data (dict, list, str, int, float, bool, None) with lines, bounded."""

    def __init__(self, file: str | None, loader: Any) -> None:
        self.file = file
        self.loader = loader
        self.lines: dict[str, int] = {}
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # value, values, chars
        self.open_anchors: set[str] = set()
        self.values = 0
        self.chars = 0
        self.root: Any = None

    def fail(self, message: str, line: int | None) -> UserError:
        return UserError([Problem(message, file=self.file, line=line)])

    def feed(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.ScalarEvent):
            self.count(1, len(event.value), line)
            self.place(self.scalar(event, line), line, event.anchor, is_scalar=True)
        elif isinstance(event, yaml.AliasEvent):
            self.alias(event, line)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self.open(event, line)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            self.close()
        elif isinstance(event, yaml.DocumentStartEvent) and self.root is not None:
            raise self.fail("expected one document, found another ('---')", line)

    def count(self, values: int, chars: int, line: int) -> None:
        self.values += values
        self.chars += chars
        if self.values > MAX_VALUES:
            raise self.fail(f"the document has more than {MAX_VALUES:,} values (aliases "
                            "counted as often as they are used)", line)
        if self.chars > MAX_TEXT_CHARS:
            raise self.fail(f"the document's text exceeds {MAX_TEXT_CHARS:,} characters "
                            "(aliases counted as often as they are used)", line)

    def scalar(self, event: yaml.ScalarEvent, line: int) -> Any:
        tag = event.tag
        if tag in (None, "!"):
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == f"{_TAG}timestamp" and event.tag is None:
            return self.text(event.value, line)  # a bare date stays the text it is
        if tag not in _PLAIN_TAGS:
            raise self.fail(f"tag {event.tag or tag} is not supported: models and configs hold "
                            "plain values (strings, numbers, true/false, null)", line)
        if tag == f"{_TAG}str":
            return self.text(event.value, line)
        if tag == f"{_TAG}int" and len(event.value) > MAX_DIGITS + 2:
            raise self.fail(f"number {shorten(event.value)} is too long (at most {MAX_DIGITS} "
                            "digits)", line)
        node = yaml.ScalarNode(tag, event.value, style=event.style)
        try:
            return self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            raise self.fail(f"cannot read value {shorten(event.value)!r} as {tag[len(_TAG):]}: "
                            f"{exc}", line) from None

    def text(self, value: str, line: int) -> str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise self.fail(f"text {shorten(value)!r} holds {value[exc.start]!r}, a lone "
                            "surrogate, which is not valid Unicode", line) from None
        return value

    def alias(self, event: yaml.AliasEvent, line: int) -> None:
        name = event.anchor
        if name in self.open_anchors:
            raise self.fail(f"alias *{name} is used inside the value it names (a cycle)", line)
        if name not in self.anchors:
            raise self.fail(f"alias *{name} names no anchor &{name} defined before it", line)
        value, values, chars = self.anchors[name]
        self.count(values, chars, line)
        self.place(value, line, None, is_scalar=not isinstance(value, dict | list))

    def open(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent, line: int) -> None:
        is_map = isinstance(event, yaml.MappingStartEvent)
        tag = event.tag
        if tag not in (None, "!", f"{_TAG}{'map' if is_map else 'seq'}"):
            raise self.fail(f"tag {tag} is not supported here: a {'mapping' if is_map else 'list'}"
                            " takes no tag", line)
        if len(self.stack) >= MAX_DEPTH:
            raise self.fail(f"values are nested more than {MAX_DEPTH} levels deep", line)
        container: dict[str, Any] | list[Any] = {} if is_map else []
        path = self.place(container, line, None, is_scalar=False)
        self.count(1, 0, line)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame(container, path, event.anchor, self.values, self.chars))

    def close(self) -> None:
        frame = self.stack.pop()
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.container, self.values - frame.values + 1,
                                          self.chars - frame.chars)

    def place(self, value: Any, line: int, anchor: str | None, *, is_scalar: bool) -> str:
        """Put a value where the document is (a key, a value, or the root); returns its path."""
        if anchor is not None:
            self.anchors[anchor] = (value, 1, len(value) if isinstance(value, str) else 0)
        if not self.stack:
            self.root = value
            self.lines[""] = line
            return ""
        top = self.stack[-1]
        if isinstance(top.container, list):
            path = child_path(top.path, len(top.container))
            top.container.append(value)
        elif top.key is None:
            if not is_scalar:
                raise self.fail("mapping keys must be plain strings", line)
            key = str(value)
            if key in top.container:
                raise UserError([Problem(f"duplicate key '{shorten(key)}'", file=self.file,
                                         path=child_path(top.path, key), line=line)])
            top.key, top.key_line = key, line
            return ""
        else:
            path = child_path(top.path, top.key)
            top.container[top.key] = value
            top.key = None
        self.lines[path] = line
        return path


def parse_text(text: str, file: str | None) -> Document:
    """Parse YAML/JSON text; any problem becomes a UserError naming the file and line."""
    loader = _Loader(text)
    composer = _Composer(file, loader)
    try:
        try:
            while loader.check_event():
                composer.feed(loader.get_event())
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise composer.fail(f"not valid YAML/JSON: {exc.problem}", line) from None
    except yaml.YAMLError as exc:  # the reader's: a character YAML does not allow
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        raise composer.fail(f"not valid YAML/JSON: {exc}".split("\n")[0], line) from None
    return Document(composer.root, file, composer.lines)


def check_model_path(path: Path, suffixes: tuple[str, ...] = MODEL_SUFFIXES) -> str | None:
    """Why `path` cannot be a model or config file, or None when it may be read.

    The rules: a `.yaml`, `.yml` or `.json` file name (`.avsc` for schemas); a regular file (not
    a directory, device, FIFO or socket), following symlinks; not under /proc, /sys or /dev; at
    most MAX_FILE_BYTES.
    """
    if path.suffix.lower() not in suffixes:
        return f"expected a {', '.join(suffixes)} file"
    try:
        real = os.path.realpath(path)
        info = os.stat(real)
    except FileNotFoundError:
        return "file not found"
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, a loop of symlinks
        return f"cannot read file: {getattr(exc, 'strerror', None) or exc}"
    for root in SPECIAL_ROOTS:
        if real == root or real.startswith(root + "/"):
            return f"{real} is on the special file system {root}, not a model file"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size > MAX_FILE_BYTES:
        return f"the file has {info.st_size:,} bytes, more than the limit of {MAX_FILE_BYTES:,}"
    return None


def outside_problem(root: Path, given: str) -> str | None:
    """Why `given`, a file path from a REST request, does not stay inside `root`, or None.

    The worker's `models.dir` rule: a relative path without `..`, which, symlinks resolved,
    still lies under `root` (a symlink inside pointing out is refused like `../x`).
    """
    if "\0" in given:
        return "a path must not contain a NUL character"
    if os.path.isabs(given):
        return "expected a path relative to the worker's models.dir, not an absolute path"
    if ".." in Path(given).parts:
        return "a path must not go up with '..'; it must stay inside the worker's models.dir"
    try:
        top = os.path.realpath(root)
        real = os.path.realpath(root / given)
    except (OSError, ValueError) as exc:  # a name too long, a loop of symlinks
        return f"cannot resolve the path: {getattr(exc, 'strerror', None) or exc}"
    if real != top and not real.startswith(top.rstrip(os.sep) + os.sep):
        return "the path leads outside the worker's models.dir (through a symlink)"
    return None


def load_file(path: str | Path, suffixes: tuple[str, ...] = MODEL_SUFFIXES) -> Document:
    """Read a model, connector or schema file (see `check_model_path`)."""
    p = Path(path)
    text = read_text(p, suffixes)
    if p.suffix.lower() in JSON_SUFFIXES:
        # Strict JSON first so JSON-only mistakes (trailing commas...) get JSON's precise message;
        # what JSON's own limits refuse (nesting, long numbers) the YAML reader reports.
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError([Problem(f"not valid JSON: {exc.msg} (column {exc.colno})",
                                     file=str(p), line=exc.lineno)]) from None
        except (ValueError, RecursionError):
            pass
    return parse_text(text, str(p))


def read_text(p: Path, suffixes: tuple[str, ...]) -> str:
    """The UTF-8 text of a file the user names, under the rules of `check_model_path`."""
    problem = check_model_path(p, suffixes)
    if problem is not None:
        raise UserError([Problem(problem, file=str(p))])
    try:
        with open(p, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UserError([Problem(f"cannot read file: {exc.strerror or exc}",
                                 file=str(p))]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise UserError([Problem(f"the file has more than {MAX_FILE_BYTES:,} bytes",
                                 file=str(p))])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UserError([Problem(f"not UTF-8 text (byte {raw[exc.start]:#04x} at offset "
                                 f"{exc.start})", file=str(p), line=line)]) from None
    return text
