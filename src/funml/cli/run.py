"""`funml run`: course experiments by name, with an HTML report at the end."""

from __future__ import annotations

import json
from pathlib import Path

import click

from funml.cli.complete import EXPERIMENTS, names
from funml.experiments.settings import DATASETS


@click.command()
@click.argument(
    "names",
    nargs=-1,
    metavar="[EXPERIMENT|all]...",
    shell_complete=names(EXPERIMENTS, ("all",)),
)
@click.option("--list", "list_", is_flag=True, help="List the experiments and exit.")
@click.option(
    "--dataset",
    type=click.Choice(DATASETS),
    default="digits",
    show_default=True,
    help="Data set for the experiments (digits is bundled and offline).",
)
@click.option("--data-dir", type=click.Path(path_type=Path), help="Folder with MNIST files.")
@click.option("--images", type=click.Path(path_type=Path), help="A folder of your photos.")
@click.option("--quick", is_flag=True, help="Small subsets and few epochs (under a minute).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for every RNG.")
@click.option(
    "--out", type=click.Path(path_type=Path), help="Run folder (new or empty; never overwritten)."
)
@click.option("--jobs", type=int, default=1, show_default=True, help="Experiments in parallel.")
@click.option("--pdf", is_flag=True, help="Also print the report to report.pdf (needs Chromium).")
@click.option(
    "--recipe",
    type=click.Choice(["course", "tuned"]),
    default="course",
    show_default=True,
    help="How the torch models train: the course's recipes, or the tuned ones (funml train's).",
)
@click.option(
    "--precision",
    type=click.Choice(["fp32", "bf16"]),
    default="fp32",
    show_default=True,
    help="bf16: the torch models' forward passes in bfloat16 (CPUs with AVX-512 BF16 or AMX).",
)
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Re-run the run that wrote this settings.json: its experiments and settings, "
    "except the flags given here (and --out: a new folder).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the run's summary (or the list) as JSON on stdout; progress goes to stderr.",
)
@click.pass_context
def run(ctx, names, list_, config, as_json, **flags):
    """Run course experiments (default: all) and write runs/<name>-<time>/report.html.

    Each experiment prints a line with its status and time. The exit code is non-zero
    if any experiment that was asked for failed; the others still run.
    """
    from funml.experiments import RunSettings, experiments, run_experiments

    if list_:
        _list(experiments().values(), as_json)
        return
    if config is not None:
        saved, saved_names = _read_config(config)
        given = {k: v for k, v in flags.items() if _given(ctx, k)}
        flags = {**flags, **saved, **given, "out": flags["out"]}
        names = names or tuple(saved_names)
    settings = RunSettings(**flags)

    def line(outcome) -> None:
        click.echo(f"{outcome.name:<18} {outcome.status:<6} {outcome.seconds:7.1f} s", err=as_json)
        if outcome.status != "ok":
            click.echo(f"{'':<18} {outcome.error}", err=True)

    result = run_experiments(settings, names or ("all",), on_done=line)
    if as_json:
        click.echo(json.dumps(_summary(result), indent=2))
    else:
        click.echo(f"{'total':<18} {'':<6} {result.seconds:7.1f} s")
        click.echo(f"Report: {result.report}")
        if result.pdf is not None:
            click.echo(f"PDF: {result.pdf}")
    if result.pdf_error is not None:
        raise click.ClickException(result.pdf_error)
    if result.failed:
        raise click.ClickException(
            f"{len(result.failed)} experiment(s) failed ({', '.join(result.failed)}); "
            f"see {result.path / 'metrics.json'} and the report for what to do."
        )


def _list(exps, as_json: bool) -> None:
    if as_json:
        entries = [{"name": e.name, "summary": e.summary, "question": e.question} for e in exps]
        click.echo(json.dumps(entries, indent=2))
        return
    for exp in exps:
        click.echo(f"{exp.name:<18} {exp.summary}")


def _summary(result) -> dict:
    """What ``--json`` prints: where the run is, and each experiment's status and verdict."""
    return {
        "folder": str(result.path),
        "report": str(result.report),
        "pdf": None if result.pdf is None else str(result.pdf),
        "seconds": round(result.seconds, 3),
        "failed": result.failed,
        "experiments": {
            o.name: {
                "status": o.status,
                "seconds": round(o.seconds, 3),
                "verdict": o.result.verdict if o.result is not None else None,
                "error": o.error,
            }
            for o in result.outcomes
        },
    }


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source not in (None, click.core.ParameterSource.DEFAULT)


def _read_config(path: Path) -> tuple[dict, list[str]]:
    """The settings and experiments of a run's ``settings.json``; FunmlError if it is not one."""
    import dataclasses

    from funml.errors import FunmlError
    from funml.experiments import RunSettings
    from funml.kinds import KINDS

    try:
        saved = json.loads(path.read_text())
    except OSError as e:
        raise FunmlError(f"Settings file '{path}' cannot be read ({e.strerror}).") from e
    except ValueError as e:
        raise FunmlError(
            f"Settings file '{path}' is not JSON ({e}); pass a run folder's settings.json."
        ) from None
    fields = {f.name for f in dataclasses.fields(RunSettings)}
    settings = saved.get("settings") if isinstance(saved, dict) else None
    experiments = saved.get("experiments") if isinstance(saved, dict) else None
    if (
        not isinstance(settings, dict)
        or not isinstance(experiments, list)
        or not all(isinstance(n, str) for n in experiments)
    ):
        raise FunmlError(
            f"'{path}' is not a settings.json that funml run wrote (it needs 'settings' and "
            "'experiments'); pass the one in a run folder."
        )
    unknown = sorted(set(settings) - fields)
    if unknown:
        raise FunmlError(
            f"'{path}' has settings this funml does not know ({', '.join(unknown)}); "
            "re-run it with the funml version that wrote it."
        )
    defaults = RunSettings()
    for key, value in settings.items():
        default = getattr(defaults, key)
        if default is None:  # a folder
            ok, kind = value is None or isinstance(value, str), "a folder name"
        else:
            holds, kind = KINDS[type(default)]
            ok = holds(value)
        if not ok:
            raise FunmlError(
                f"'{path}' has {key} = {json.dumps(value)}, which is not {kind}; fix the file."
            )
        if default is None and value is not None:
            settings[key] = Path(value)
    return settings, experiments
