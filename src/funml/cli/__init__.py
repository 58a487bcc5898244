"""The ``funml`` command line.

Each subcommand lives in its own module of this package and is imported only when it runs,
so ``funml --help`` stays fast and never imports torch. Command modules turn flags into a
settings object and call plain library functions; they hold no logic of their own.
"""

from __future__ import annotations

import importlib
import signal
import sys
import warnings

import click

from funml import __version__
from funml.errors import FunmlError
from funml.runtime import configure_process

# name -> ("module:attribute", one-line help). The help is kept here so that listing the
# commands imports nothing heavy.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("funml.cli.run:run", "Run course experiments and write an HTML report."),
    "data": ("funml.cli.data:data", "Inspect, download and show the data sets."),
    "graph": ("funml.cli.graph:graph", "Evaluate an expression, backpropagate, draw its graph."),
    "train": ("funml.cli.train:train", "Train a course model on a data set."),
    "evaluate": ("funml.cli.train:evaluate", "Evaluate a training checkpoint on a test split."),
    "summary": ("funml.cli.train:summary", "Print a model's layers, output shapes and parameters."),
    "classify": ("funml.cli.classify:classify", "Classify a folder of photos with ImageNet CNNs."),
    "check": ("funml.cli.check:check", "Grade a student's course functions against funml's."),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FunmlError as e:
            raise click.ClickException(str(e)) from None
        except OSError as e:
            # A safety net: file-system errors that no layer below translated.
            where = f" '{e.filename}'" if e.filename else ""
            raise click.ClickException(
                f"{e.strerror or e}{where}; check the path and its permissions."
            ) from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="funml")
def cli() -> None:
    """funml: a fast, tested lab for the fundamentals of machine learning on images.

    Start with `funml run all`: every course experiment on an offline default, with an
    HTML report at the end.
    """


def main() -> None:
    """Console-script entry point."""
    configure_process()
    warnings.showwarning = _one_line_warning
    # SIGTERM (a plain `kill`, a scheduler stopping the job) is handled as Ctrl-C: writes
    # are finished or abandoned, temporaries removed, and what finished is reported.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        cli(prog_name="funml")
    finally:
        # Past the command, a SIGTERM ends the process plainly: raised inside the
        # interpreter's exit hooks it would only print a traceback (torch's launcher sends
        # one to the surviving workers when another dies).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # A warning on the command line is one line for the user, as errors are, not Python's
    # two lines with a file name and a line of funml's source.
    kind = "Warning" if category is UserWarning else f"Warning ({category.__name__})"
    print(f"{kind}: {message}", file=sys.stderr if file is None else file)


def _terminated(signum, frame) -> None:
    # Once: a second SIGTERM while the first is being handled ends the process.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt("SIGTERM")
