"""The YAML/JSON reader against hostile documents and files: one clear error each, never a
traceback, a hang or a blow-up (inputs minimised from fuzzing)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connector.errors import UserError
from connector.model.source import MAX_FILE_BYTES, load_file, parse_text


def _error(text: str) -> str:
    with pytest.raises(UserError) as info:
        parse_text(text, "m.yaml")
    (problem,) = info.value.problems
    return problem.render()


LAUGHS = "\n".join(["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"] + [
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)])

DOCUMENTS = [
    ("nested 600 levels", "[" * 600 + "]" * 600,
     "error: m.yaml:1: values are nested more than 64 levels deep"),
    ("nested blocks", "".join(f"{'  ' * i}k{i}:\n" for i in range(80)) + "  " * 80 + "v",
     "error: m.yaml:65: values are nested more than 64 levels deep"),
    ("alias inside its anchor", "a: &a [*a]",
     "error: m.yaml:1: alias *a is used inside the value it names (a cycle)"),
    ("undefined alias", "a: *nope",
     "error: m.yaml:1: alias *nope names no anchor &nope defined before it"),
    ("billion laughs", LAUGHS, "error: m.yaml:6: the document has more than 200,000 values "
     "(aliases counted as often as they are used)"),
    ("python tag", "a: !!python/object/apply:os.system [ls]",
     "error: m.yaml:1: tag tag:yaml.org,2002:python/object/apply:os.system is not supported "
     "here: a list takes no tag"),
    ("python tag on a scalar", "a: !!python/name:os.system ''",
     "error: m.yaml:1: tag tag:yaml.org,2002:python/name:os.system is not supported: models "
     "and configs hold plain values (strings, numbers, true/false, null)"),
    ("tag on the wrong node kind", "a: !!int {}",
     "error: m.yaml:1: tag tag:yaml.org,2002:int is not supported here: a mapping takes no tag"),
    ("binary", "a: !!binary aGk=", "error: m.yaml:1: tag tag:yaml.org,2002:binary is not "
     "supported: models and configs hold plain values (strings, numbers, true/false, null)"),
    ("control character", "a: \x01", "error: m.yaml:1: not valid YAML/JSON: unacceptable "
     "character #x0001: control characters are not allowed"),
    ("integer of 5000 digits", "a: " + "1" * 5000,
     "error: m.yaml:1: number 1111111111111111111111111111111111111... is too long "
     "(at most 40 digits)"),
    ("escaped lone surrogate", 'a: "x\\ud800"',
     "error: m.yaml:1: not valid YAML/JSON: found invalid Unicode character escape code"),
    ("two documents", "a: 1\n---\nb: 2",
     "error: m.yaml:2: expected one document, found another ('---')"),
    ("complex key", "? [a]\n: b", "error: m.yaml:1: mapping keys must be plain strings"),
]


@pytest.mark.parametrize(("text", "expected"), [d[1:] for d in DOCUMENTS],
                         ids=[d[0] for d in DOCUMENTS])
def test_hostile_document_gives_one_clear_error(text: str, expected: str) -> None:
    """Each hostile document is refused with its one-line message naming file and line."""
    assert _error(text) == expected


def test_json_lone_surrogate_is_refused(tmp_path: Path) -> None:
    """A JSON escape of a lone surrogate never reaches the model as broken text."""
    path = tmp_path / "m.json"
    path.write_text('{"a": "\\ud800"}')
    with pytest.raises(UserError, match=r"lone surrogate|invalid Unicode"):
        load_file(path)


def test_deep_and_long_json_files_are_refused_by_the_reader(tmp_path: Path) -> None:
    """JSON's own RecursionError and 4,300-digit limit never escape: the reader reports them."""
    deep, long = tmp_path / "deep.json", tmp_path / "long.json"
    deep.write_text("[" * 3000 + "]" * 3000)
    long.write_text('{"a": ' + "7" * 5000 + "}")
    with pytest.raises(UserError, match="nest"):
        load_file(deep)
    with pytest.raises(UserError, match=r"long\.json:1: number 7+\.\.\. is too long"):
        load_file(long)


def test_plain_values_only() -> None:
    """Bare dates stay text, hex and .nan read as YAML says, aliases share their value."""
    doc = parse_text("a: &a [x]\nb: *a\nc: 2024-01-01\nd: 0x1F\n", "m.yaml")
    assert doc.data == {"a": ["x"], "b": ["x"], "c": "2024-01-01", "d": 31}
    assert doc.line("b") == 2


def _load_error(path: Path) -> str:
    with pytest.raises(UserError) as info:
        load_file(path)
    return str(info.value)


def test_file_rules(tmp_path: Path) -> None:
    """Only regular .yaml/.yml/.json files of bounded size outside /proc, /sys and /dev."""
    long_name = tmp_path / ("a" * 300 + ".yaml")
    assert _load_error(long_name) == f"error: {long_name}: cannot read file: File name too long"
    assert _load_error(Path("/proc/self/environ")) == \
        "error: /proc/self/environ: expected a .yaml, .yml, .json file"
    link = tmp_path / "env.yaml"
    link.symlink_to("/proc/self/environ")
    assert "is on the special file system /proc, not a model file" in _load_error(link)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert _load_error(fifo) == f"error: {fifo}: not a regular file"
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    assert _load_error(big) == (f"error: {big}: the file has {MAX_FILE_BYTES + 1:,} bytes, more "
                                f"than the limit of {MAX_FILE_BYTES:,}")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"a: \xe9\n")
    assert _load_error(latin) == f"error: {latin}:1: not UTF-8 text (byte 0xe9 at offset 3)"
