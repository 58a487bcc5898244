"""``funml check``: grade a student's implementation of the course's functions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from funml.cli.complete import TOPICS, names
from funml.errors import FunmlError

# Exit codes: every check passed, some check failed, the input could not be read.
PASSED, FAILED, UNREADABLE = 0, 1, 2


@click.command()
@click.argument("topic", required=False, shell_complete=names(TOPICS))
@click.argument("submission", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead.")
@click.option(
    "--gradescope",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write Gradescope's results.json to this path.",
)
@click.option("--list-bugs", is_flag=True, help="Print the catalogue of the course's bugs.")
@click.option(
    "--template",
    "template_topic",
    metavar="TOPIC",
    shell_complete=names(TOPICS),
    default=None,
    help="Write a starter file for TOPIC to --out (.py or .ipynb).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="The template file, or the CSV/JSON table when SUBMISSION is a folder.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing --out table or --gradescope file (never a template).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Submissions checked at once when SUBMISSION is a folder.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.5, 600),
    default=20.0,
    show_default=True,
    help="Seconds one check may take.",
)
@click.option(
    "--memory-mb",
    type=click.IntRange(256, 65536),
    default=3072,
    show_default=True,
    help="Memory limit of the process running the submission.",
)
@click.pass_context
def check(ctx, **options):
    """Check SUBMISSION (.py or .ipynb) against funml's references for TOPIC.

    TOPIC is one of knn, softmax, mlp, conv2d, loops, graph, pca. Only the submission's imports,
    function and class definitions and literal constants are used; they run in a separate
    process with time and memory limits. A failing check says what is wrong and, when the
    output matches a known course bug, names it (see --list-bugs).

    Exit code: 0 when every check passes, 1 when one fails, 2 when the submission or the
    topic cannot be read. When SUBMISSION is a folder, every .py and .ipynb file in it is
    checked (--jobs at once) and one table with a row per file goes to --out (.csv/.json).

    \b
    Examples:
      funml check softmax my_softmax.ipynb
      funml check --template mlp --out mlp.py
      funml check knn submissions/ --out grades.csv --jobs 4
    """
    try:
        code = _dispatch(**options)
    except FunmlError as e:
        click.echo(f"Error: {e}", err=True)
        code = UNREADABLE
    ctx.exit(code)


def _dispatch(
    *,
    topic,
    submission,
    as_json,
    gradescope,
    list_bugs,
    template_topic,
    out,
    force,
    jobs,
    timeout,
    memory_mb,
) -> int:
    from funml.check import CheckSettings, Limits

    if list_bugs:
        _list_bugs(as_json)
        return PASSED
    if template_topic is not None:
        from funml.check.templates import write_template

        if out is None:
            raise FunmlError("--template needs --out FILE (.py or .ipynb) to write to.")
        path = write_template(template_topic, out)
        click.echo(f"Template for '{template_topic}' written to {path}")
        return PASSED
    if topic is None or submission is None:
        raise FunmlError("Give a TOPIC and a SUBMISSION, e.g. funml check knn knn.py.")
    settings = CheckSettings(limits=Limits(seconds=timeout, memory_mb=memory_mb))
    if submission.is_dir():
        _refuse_existing(out, "--out", force)
        return _batch(topic, submission, out, jobs, settings)
    _refuse_existing(gradescope, "--gradescope", force)
    from funml.check import check_submission

    report = check_submission(topic, submission, settings)
    if gradescope is not None:
        from funml.files import write_json

        write_json(gradescope, report.to_gradescope())
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(report.format_table())
    return PASSED if report.passed else FAILED


def _refuse_existing(path: Path | None, flag: str, force: bool) -> None:
    # Checked before any grading: a file the user made is replaced only when asked.
    if path is not None and path.exists() and not force:
        raise FunmlError(f"'{path}' already exists; choose another {flag} or pass --force.")


def _list_bugs(as_json: bool) -> None:
    from funml.check import BUGS

    if as_json:
        click.echo(json.dumps([b.to_dict() for b in BUGS], indent=2))
        return
    rows = [("id", "topic", "check", "what the mistake is")]
    rows += [(b.id, b.topic, b.check, b.description) for b in BUGS]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        click.echo("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])


def _batch(topic, folder: Path, out: Path | None, jobs: int, settings) -> int:
    from funml.check.batch import grade_folder, write_table

    if out is None or out.suffix.lower() not in (".csv", ".json"):
        raise FunmlError("Checking a folder needs --out FILE (.csv or .json) for the table.")
    table = grade_folder(topic, folder, jobs=jobs, settings=settings)
    write_table(table, out)
    click.echo(f"{len(table)} submissions checked; table written to {out}")
    return PASSED
