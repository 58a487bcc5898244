"""The command line's frame: help, version, and how errors reach the user."""

import subprocess
import sys

from click.testing import CliRunner

from funml import __version__
from funml.cli import cli


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_subcommands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "Commands" in result.output
    assert "run" in result.output or "data" in result.output


def test_help_does_not_import_torch():
    code = "import sys; from funml.cli import cli; cli(['--help'], standalone_mode=False); "
    code += "assert 'torch' not in sys.modules, 'funml --help imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_unknown_command_exits_nonzero():
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code != 0
    assert "No such command" in result.output
