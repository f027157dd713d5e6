"""The local destination's damaged outputs: a clear error saying what is wrong and how to start
over, never silently wrong output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli import run  # noqa: F401  (registers the command)
from connector.cli.main import cli
from tests.helpers import banking_model, write_connector, write_model


def _run(tmp: Path, out: Path, ticks: int) -> str:
    connector = write_connector(tmp, write_model(tmp, banking_model()), users=200, ticks=ticks,
                                shards=2, snapshot_interval_ticks=5)
    result = CliRunner().invoke(cli, ["run", str(connector), "-o", str(out), "-q"])
    assert "Traceback" not in result.output
    return result.output if result.exit_code else ""


def _offsets(edit: Callable[[dict[str, object]], object]) -> Callable[[Path], None]:
    def damage(out: Path) -> None:
        path = out / "_offsets.json"
        data = json.loads(path.read_text())
        edit(data)
        path.write_text(json.dumps(data))
    return damage


def _truncate_offsets(out: Path) -> None:
    path = out / "_offsets.json"
    path.write_bytes(path.read_bytes()[:40])


def _remove_snapshots(out: Path) -> None:
    for snap in (out / "_snapshots").iterdir():
        snap.unlink()


def _cut_data(out: Path) -> None:
    path = out / "trx.avro"
    path.write_bytes(path.read_bytes()[:-7])


def _foreign_header(out: Path) -> None:
    path = out / "trx.avro"
    path.write_bytes(b"XXXX" + path.read_bytes()[4:])


def _garbage_snapshots(out: Path) -> None:
    for snap in (out / "_snapshots").iterdir():
        snap.write_bytes(b"PK\x03\x04 not a snapshot")


START_OVER = "to start over, move {out} away (or delete it) and run again"
CASES = [
    ("truncated offsets", _truncate_offsets,
     "{out}/_offsets.json: the offsets file is damaged (JSONDecodeError: "),
    ("offsets not an object", lambda out: (out / "_offsets.json").write_text("[1, 2]"),
     "{out}/_offsets.json: the offsets file is damaged (TypeError: not a JSON object); "
     + START_OVER),
    ("offsets with a foreign snapshot path",
     _offsets(lambda d: d["shards"]["0"].update(snapshot="../../etc/passwd")),  # type: ignore
     "{out}/_offsets.json: the offsets file is damaged (ValueError: shard 0 names snapshot "
     "'../../etc/passwd', not one doge writes); " + START_OVER),
    ("offsets with a negative tick", _offsets(lambda d: d["shards"]["0"].update(next_tick=-3)),  # type: ignore
     "{out}/_offsets.json: the offsets file is damaged (ValueError: expected a whole number, "
     "got -3); " + START_OVER),
    ("snapshot missing", _remove_snapshots, "{out}/_snapshots/shard-0-tick-10.snap: the snapshot "
     "of shard 0 named by _offsets.json is missing; " + START_OVER),
    ("data file cut mid-block", _cut_data, "{out}/trx.avro is shorter than its committed length"),
    ("data file missing", lambda out: (out / "trx.avro").unlink(),
     "{out}/trx.avro is missing, but _offsets.json says it holds"),
    ("data file with a foreign header", _foreign_header, "{out}/trx.avro does not start with "
     "the Avro header this run writes: it was replaced or modified outside doge; " + START_OVER),
    ("damaged snapshot", _garbage_snapshots, "error: the committed snapshot of shard 0 cannot "
     "be restored (not a snapshot doge wrote, or a damaged one (BadZipFile)); reset the "
     "connector's offsets (doge run: move the output directory away) to start over"),
]


@pytest.mark.parametrize(("damage", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_damaged_output_is_refused_with_how_to_start_over(
        tmp_path: Path, damage: Callable[[Path], None], expected: str) -> None:
    """Resuming over a damaged output directory fails clearly (exit 2, no traceback)."""
    out = tmp_path / "out"
    assert _run(tmp_path, out, ticks=10) == ""
    damage(out)
    assert expected.format(out=out) in _run(tmp_path, out, ticks=20)


def test_garbage_appended_after_the_committed_length_is_dropped(tmp_path: Path) -> None:
    """Bytes past the committed length (what a crash leaves) are cut: output stays identical."""
    out, reference = tmp_path / "out", tmp_path / "reference"
    assert _run(tmp_path, out, ticks=10) == ""
    with open(out / "trx.avro", "ab") as handle:
        handle.write(b"garbage after the last commit")
    assert _run(tmp_path, out, ticks=20) == ""
    assert _run(tmp_path, reference, ticks=20) == ""
    assert (out / "trx.avro").read_bytes() == (reference / "trx.avro").read_bytes()
