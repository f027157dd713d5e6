"""The `doge` group: every command listed and reachable, each loaded only when it runs."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from connector.cli.app import cli
from connector.cli.main import COMMANDS
from tests.helpers import ROOT

# What importing every command used to drag into `doge --help`.
_HEAVY = ("numpy", "confluent_kafka", "psycopg", "faker", "connector.engine",
          "connector.analysis", "connector.runtime")


def test_help_lists_every_command_with_its_summary() -> None:
    """`doge --help` names each command with the start of its one-line summary, the same
    whether or not a command has been loaded."""
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:")[1]
    for name, entry in COMMANDS.items():
        line = next(x for x in listed.splitlines() if x.split()[:1] == [name])
        assert entry.summary.split()[0] in line
    assert CliRunner().invoke(cli, ["run", "--help"]).exit_code == 0
    assert CliRunner().invoke(cli, ["--help"]).output == result.output


def test_every_listed_command_is_the_module_s_command() -> None:
    """Each entry's module registers the command under that name, and `NAME --help` works."""
    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert f" {name} " in result.output.splitlines()[0], (name, result.output)
    assert CliRunner().invoke(cli, ["no-such-command"]).exit_code == 2


def test_help_and_quickstarts_load_no_engine_nor_client() -> None:
    """`doge --help` and `doge quickstarts` import none of the engine, the analysis, the
    runtime, Kafka's, PostgreSQL's or Faker's modules (they cost ~1.2 s before the first line)."""
    probe = ("import json, sys\n"
             "from connector.cli.app import cli\n"
             "try:\n"
             "    cli([sys.argv[1]], standalone_mode=False)\n"
             "finally:\n"
             "    print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    for argument in ("--help", "quickstarts"):
        done = subprocess.run([sys.executable, "-c", probe, argument], capture_output=True,
                              text=True, timeout=120, check=True)
        loaded = json.loads(done.stderr.strip().splitlines()[-1])
        heavy = [m for m in loaded if m.split(".")[0] in _HEAVY or m.startswith(_HEAVY)]
        assert not heavy, (argument, heavy[:10])


def test_a_model_without_fakes_loads_no_faker() -> None:
    """Validating a model that fakes no value does not import Faker (imported on first use)."""
    probe = ("import sys\n"
             "from connector.cli.app import cli\n"
             "try:\n"
             "    cli(['validate', 'config/models/banking.yaml'], standalone_mode=False)\n"
             "finally:\n"
             "    print('faker' in sys.modules, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, check=True, cwd=ROOT)
    assert "ok" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "False"
