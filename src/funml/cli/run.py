"""`funml run`: course experiments by name, with an HTML report at the end."""

from __future__ import annotations

from pathlib import Path

import click

from funml.experiments.settings import DATASETS


@click.command()
@click.argument("names", nargs=-1, metavar="[EXPERIMENT|all]...")
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
def run(names, list_, dataset, data_dir, images, quick, seed, out, jobs, pdf, recipe, precision):
    """Run course experiments (default: all) and write runs/<name>-<time>/report.html.

    Each experiment prints a line with its status and time. The exit code is non-zero
    if any experiment that was asked for failed; the others still run.
    """
    from funml.experiments import RunSettings, experiments, run_experiments

    if list_:
        for exp in experiments().values():
            click.echo(f"{exp.name:<18} {exp.summary}")
        return
    settings = RunSettings(
        dataset=dataset,
        data_dir=data_dir,
        images=images,
        quick=quick,
        seed=seed,
        out=out,
        jobs=jobs,
        pdf=pdf,
        recipe=recipe,
        precision=precision,
    )

    def line(outcome) -> None:
        click.echo(f"{outcome.name:<18} {outcome.status:<6} {outcome.seconds:7.1f} s")
        if outcome.status != "ok":
            click.echo(f"{'':<18} {outcome.error}", err=True)

    result = run_experiments(settings, names or ("all",), on_done=line)
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
