"""``funml graph``: evaluate an expression, backpropagate, print every node, draw the graph."""

from __future__ import annotations

import json
import math
import unicodedata
from pathlib import Path

import click

from funml.errors import FunmlError

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


@click.command()
@click.argument("expression")
@click.option(
    "--at",
    "assignments",
    multiple=True,
    metavar="NAME=VALUE",
    help="A variable's value; repeat for each variable, e.g. --at w1=0.1 --at x1=0.3.",
)
@click.option(
    "--target",
    type=float,
    default=None,
    metavar="F_STAR",
    help="Target f*: adds the error node e = f - f* and backpropagates from e.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Draw the graph to this new file: .png, .svg or .pdf, or .dot for Graphviz text.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead.")
def graph(expression, assignments, target, out, as_json):
    """Evaluate EXPRESSION, backpropagate, and print every node's value and gradient.

    EXPRESSION uses numbers, variable names, + - * /, ** with a constant exponent
    (x**2, x**-0.5) and exp, log, sigmoid, tanh, relu. Each operation is one node; its
    result is named z1, z2, ... and the last one f. With --out the graph is drawn too.

    \b
    The course's example:
      funml graph "exp(-(w1*x1 + w2*x2))" --target 1 \\
          --at w1=0.1 --at x1=0.3 --at w2=-0.2 --at x2=0.4 --out graph.png
    """
    from funml.autodiff import backprop, format_table, graph_summary

    values = parse_assignments(assignments)
    if target is not None and not math.isfinite(target):
        raise FunmlError(f"--target must be a finite number; got {target}.")
    if out is not None:
        _check_out(out)
    g = backprop(expression, values, target=target)
    if out is not None:
        _save(g, out)

    if as_json:
        click.echo(json.dumps(graph_summary(g), indent=2))
    else:
        click.echo(format_table(g))
        if out is not None:
            click.echo(f"\nGraph written to {out}")


def parse_assignments(assignments) -> dict[str, float]:
    """``["w1=0.1", "x1=0.3"]`` → ``{"w1": 0.1, "x1": 0.3}``, with one-sentence errors."""
    values: dict[str, float] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        # As Python reads identifiers: NFKC-normalised, so --at ﬁ=1 is the variable fi.
        name, text = unicodedata.normalize("NFKC", name.strip()), text.strip()
        if not sep or not name.isidentifier() or not text:
            raise FunmlError(f"--at '{item}' must look like NAME=VALUE, for example --at w1=0.1.")
        try:
            x = float(text)
        except ValueError:
            raise FunmlError(f"--at {item}: '{text}' is not a number.") from None
        if not math.isfinite(x):
            raise FunmlError(f"--at {item}: the value must be a finite number.")
        if name in values:
            raise FunmlError(f"--at gives '{name}' twice; give each variable one value.")
        values[name] = x
    return values


def _check_out(out: Path) -> None:
    # Checked before any work so that a bad --out fails fast and leaves nothing behind.
    if out.suffix.lower() not in (*FIGURE_SUFFIXES, ".dot"):
        raise FunmlError(f"--out '{out}' must end in .png, .svg, .pdf or .dot.")
    if out.exists():
        raise FunmlError(f"--out '{out}' already exists; choose a new file name or remove it.")


def _save(g, out: Path) -> None:
    from funml.autodiff import draw_graph, to_dot
    from funml.files import save_figure, write_text

    if out.suffix.lower() == ".dot":
        write_text(out, to_dot(g))
    else:
        save_figure(draw_graph(g), out)
