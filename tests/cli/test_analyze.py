"""`doge analyze` and `doge graph` as a user runs them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli.app import cli
from tests.helpers import ROOT, banking_model, write_model


def _invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_analyze_prints_every_section() -> None:
    """The text output has the transitions, matrix, states, topics and condition notes."""
    code, output = _invoke("analyze", "banking")
    assert code == 0, output
    for heading in ("transitions (chance per tick", "per-tick transition matrix",
                    "users per state", "topics over the horizon", "conditions:", "bytes: an "
                    "estimate"):
        assert heading in output, heading
    assert re.search(r"spending: 'balance >= amount' \(upper bound\)", output)
    assert re.search(r"^  clickstream +[\d,]+ .* exact$", output, re.MULTILINE)


def test_analyze_json_and_connector_settings() -> None:
    """--json gives the figures as JSON; a connector's users, tick and ticks are used."""
    code, output = _invoke("analyze", str(ROOT / "config" / "banking.json"), "--json")
    assert code == 0, output
    data = json.loads(output)
    assert data["settings"] == {"users": 10000, "tick_ms": 60000, "start_ms": 1644550908000,
                                "ticks": 1440}
    topics = {t["name"]: t for t in data["topics"]}
    assert topics["loan"]["status"] == "exact" and topics["trx"]["status"] == "upper bound"
    fired = {t["name"]: t["moves"] for t in data["transitions"]}
    assert topics["loan"]["events"] == pytest.approx(fired["take_loan"])
    assert sum(s["share"] for s in data["states"]) == pytest.approx(1.0)


def test_target_rate_solves_users() -> None:
    """--target-events-per-second gives the users whose analysed rate is the target."""
    code, output = _invoke("analyze", "iot", "--target-events-per-second", "500", "--json")
    assert code == 0, output
    data = json.loads(output)
    assert data["target"]["users"] == data["settings"]["users"]
    assert data["events_per_s"] == pytest.approx(500, rel=1e-3)
    code, output = _invoke("analyze", "music", "--target-events-per-second", "5", "--topic",
                           "listen_events")
    assert code == 0 and "users for 5 events/s to listen_events:" in output


@pytest.mark.parametrize(("args", "message"), [
    (["--target-events-per-second", "nan"], "expected a positive number"),
    (["--target-events-per-second", "-1"], "expected a positive number"),
    (["--target-events-per-second", "inf"], "expected a positive number"),
    (["--target-events-per-second", "0.000001"], "arrivals alone give"),
    (["--target-events-per-second", "1e30"], "over 10^12"),
    (["--topic", "nope", "--target-events-per-second", "1"], "unknown topic 'nope'"),
    (["--ticks", str(10**12)], "run past the year 9999"),
    (["--tick", "1ms", "--ticks", str(10**13)], "too long to analyse")])
def test_hostile_analyze_options(args: list[str], message: str) -> None:
    """Impossible targets, unknown topics and endless horizons are clean errors (exit 2)."""
    code, output = _invoke("analyze", "music", *args)
    assert code == 2 and message in output, output


def test_dot_output_parses_with_graphviz(dot_binary: str, tmp_path: Path) -> None:
    """`--format dot` is read by Graphviz itself, with every state and transition in it."""
    for name in ("banking", "music", "iot"):
        code, text = _invoke("graph", name, "--format", "dot")
        assert code == 0, text
        done = subprocess.run([dot_binary, "-Tcanon"], input=text, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0 and not done.stderr, done.stderr
        data = json.loads(_invoke("analyze", name, "--json")[1])
        for state in data["states"]:
            assert f'label="{state["name"]}\\n' in done.stdout, state
        edges = sum(len(t["sources"]) for t in data["transitions"])
        assert len(re.findall(r"^\s*s\d+(:\w+)? -> s\d+", done.stdout, re.MULTILINE)) == edges


def test_svg_and_png_through_graphviz(dot_binary: str, tmp_path: Path) -> None:
    """SVG and PNG are drawn by Graphviz into the output file."""
    code, output = _invoke("graph", "banking", "--format", "svg", "-o", str(tmp_path / "g.svg"))
    assert code == 0, output
    assert "<svg" in (tmp_path / "g.svg").read_text() and "take_loan" in \
        (tmp_path / "g.svg").read_text()
    assert _invoke("graph", "banking", "--format", "png", "-o", str(tmp_path / "g.png"))[0] == 0
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_svg_without_graphviz_is_a_clear_error(tmp_path: Path) -> None:
    """Without `dot` on the PATH, SVG asks for Graphviz and names the text formats."""
    code, output = _invoke("graph", "banking", "--format", "svg", env={"PATH": str(tmp_path)})
    assert code == 2
    assert "needs Graphviz's `dot`, which is not installed" in output
    assert "apt-get install graphviz" in output and "--format mermaid" in output


def test_mermaid_is_well_formed(tmp_path: Path) -> None:
    """Mermaid: a flowchart, one node per state, one labelled link per transition and source,
    one linkStyle per link, labels with no character that would end them."""
    model = banking_model()
    model["transitions"][0]["condition"] = 'balance < 5 or (balance > 3 and "x|y" != "[z]")'
    path = write_model(tmp_path, model)
    code, text = _invoke("graph", str(path))
    assert code == 0, text
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes = [x for x in lines if re.fullmatch(r'  s\d+\(\["[^"]*"\]\)', x)]
    assert len(nodes) == len(model["states"])
    links = [x for x in lines if " -->" in x]
    labelled = [x for x in links if re.fullmatch(r'  s\d+ -->\|"[^"|]*"\| s\d+', x)]
    assert len(labelled) == len(model["transitions"]) and len(links) == len(labelled) + 1
    styles = [x for x in lines if x.startswith("  linkStyle ")]
    assert [int(x.split()[1]) for x in styles] == list(range(len(links)))
    assert "#lt; 5" in text and "#124;" in text and "#91;z#93;" in text


def test_huge_model_is_refused_quickly(tmp_path: Path) -> None:
    """A model too large to analyse densely is a clean error, not minutes of work."""
    states = [f"s{i}" for i in range(600)]
    model = {"states": states, "transitions": [
        {"name": f"t{i}", "from": s, "to": states[(i + 1) % len(states)], "chance": 1}
        for i, s in enumerate(states)]}
    path = write_model(tmp_path, model)
    for command in ("analyze", "graph"):
        code, output = _invoke(command, str(path))
        assert code == 2 and "the analysis handles 400 together at most" in output, output
