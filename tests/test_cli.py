"""The command line's frame: help, version, and how errors reach the user."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from funml import __version__
from funml.cli import COMMANDS, cli


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_every_command_with_its_help():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:\n", 1)[1].splitlines()
    expected = [(name, help_text) for name, (_, help_text) in COMMANDS.items()]
    assert [tuple(line.split(maxsplit=1)) for line in listed] == expected


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_loads_and_has_help(name):
    command = cli.get_command(None, name)
    assert command is not None and command.name == name
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: cli {name} ")


def test_help_does_not_import_torch():
    code = "import sys; from funml.cli import cli; cli(['--help'], standalone_mode=False); "
    code += "assert 'torch' not in sys.modules, 'funml --help imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_unknown_command_exits_nonzero():
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code != 0
    assert "No such command" in result.output


def test_a_warning_is_one_line_on_the_command_line(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "gone.png").symlink_to(tmp_path / "nowhere.png")  # a broken link
    args = [
        sys.executable,
        "-m",
        "funml",
        "summary",
        "cnn",
        "--dataset",
        f"folder:{tmp_path}/photos",
    ]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("Warning: Skipped ") and "gone.png" in lines[0], proc.stderr
    assert lines[1].startswith("Error: Folder ") and len(lines) == 2, proc.stderr
