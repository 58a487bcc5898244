"""`bugs`: each of the course's catalogued bugs, measured next to its fix on the same data.

The catalogue (:mod:`funml.check.catalogue`) holds, per bug, the buggy and the fixed line
and a buggy variant in the course's signature; :func:`funml.check.effects.measure` runs the
variant and funml's reference on the same split. This experiment measures every entry and
shows both numbers, and the course's own figure where it reported one.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from matplotlib.figure import Figure

from funml.data.dataset import ImageDataset
from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result, Table
from funml.timing import timer

# The course's figures that can stand next to a measured one: (value, the data it was on;
# None when it does not depend on data).
COURSE_FIGURES = {
    ("knn", "uint8-overflow"): (0.5135, "mnist"),
    ("graph", "graph-gradient-at-target"): (-0.3, None),
}
# The lowest cross-entropy a sigmoid-then-softmax output layer can reach over 10 classes:
# at best the right class's sigmoid is 1 and the others' 0, so p = e / (e + 9).
SIGMOID_SOFTMAX_FLOOR = math.log(math.e + 9) - 1
_UNITS = {"fraction": "%"}
_NAMES = {"digits": "Digits", "mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def _name(dataset: str) -> str:
    return _NAMES.get(dataset, dataset)  # effects' "fraction" is a ratio shown as percent


@dataclass(frozen=True)
class BugRow:
    """One bug's measured effect: ``metric`` is ``buggy`` with the bug and ``fixed`` without."""

    id: str
    topic: str
    description: str
    buggy_line: str
    fixed_line: str
    metric: str
    unit: str  # "fraction" (shown as percent), "nats" or ""
    buggy: float
    fixed: float
    data: str  # the data set it was measured on
    reported: str | None  # what the course reported, where it did
    seconds: float
    buggy_by_epoch: tuple[float, ...] = ()  # the metric after each epoch, where it trains
    fixed_by_epoch: tuple[float, ...] = ()


@dataclass(frozen=True)
class BugsMeasurement:
    dataset: str  # the run's data set, used for every data-dependent bug except the loops'
    n_train: int
    n_test: int
    loops_dataset: str  # the loops' model trains on Digits when the run's set is large
    loops_n_train: int
    loops_n_test: int
    rows: tuple[BugRow, ...]


def _no_progress(iterable, desc: str):
    return iterable


def measure_bugs(
    ds: ImageDataset,
    n_train: int,
    n_test: int,
    *,
    loops: tuple[ImageDataset, int, int] | None = None,
    bugs=None,
    progress=_no_progress,
) -> BugsMeasurement:
    """Every catalogued bug's variant and funml's reference on the first ``n_train`` and
    ``n_test`` images of ``ds``; the loops' bugs on ``loops`` = (data, n_train, n_test)
    when given (their torch model is slow to train on a large set)."""
    from funml.check.catalogue import BUGS
    from funml.check.effects import measure

    loops = loops or (ds, n_train, n_test)
    rows = []
    for bug in progress(BUGS if bugs is None else bugs, desc="bugs"):
        data = loops if bug.topic == "loops" else (ds, n_train, n_test)
        with timer() as t:
            e = measure(bug, *data)
        rows.append(_row(bug, e, t.seconds))
    return BugsMeasurement(*_sized(ds, n_train, n_test), *_sized(*loops), rows=tuple(rows))


def _row(bug, e, seconds: float) -> BugRow:
    """A catalogue entry and its measured :class:`funml.check.effects.Effect` as one row."""
    return BugRow(
        id=bug.id,
        topic=bug.topic,
        description=bug.description,
        buggy_line=bug.buggy_line,
        fixed_line=bug.fixed_line,
        metric=e.metric,
        unit=e.unit,
        buggy=e.buggy,
        fixed=e.fixed,
        data=e.data,
        reported=bug.reported,
        seconds=seconds,
        buggy_by_epoch=e.buggy_by_epoch,
        fixed_by_epoch=e.fixed_by_epoch,
    )


def _sized(ds: ImageDataset, n_train: int, n_test: int) -> tuple[str, int, int]:
    return ds.name, min(n_train, len(ds.train)), min(n_test, len(ds.test))


def present_bugs(m: BugsMeasurement) -> Result:
    """The report's view of ``m``: a row per bug with both numbers, the loss figure."""
    metrics = asdict(m)
    metrics["rows"] = {f"{r.topic}/{r.id}": asdict(r) for r in m.rows}
    metrics["bugs"] = len(m.rows)
    metrics["bugs_changing_their_number"] = sum(_changes(r) for r in m.rows)
    return Result(
        metrics=metrics,
        verdict=_verdict(m),
        answer=_answer(m),
        references=[ref for r in m.rows for ref in _references(r)],
        figures=_figures(m),
        tables=[_table(m)],
        notes=_notes(m),
    )


def _references(r: BugRow) -> list[Reference]:
    """The bug's number next to the fix's; next to the course's figure where it is on the
    same data; the sigmoid-then-softmax loss next to its floor."""
    name, unit = f"{r.id} ({r.topic})", _UNITS.get(r.unit, r.unit)
    refs = [Reference(f"{name}: {r.metric}", r.buggy, r.fixed, "the fixed line, same data", unit)]
    figure, on = COURSE_FIGURES.get((r.topic, r.id), (None, ""))
    if figure is not None and on in (None, r.data):
        refs.append(
            Reference(
                f"{name}: with the bug, against the course's figure",
                r.buggy,
                figure,
                "the course's graded answer, made with this bug",
                unit,
            )
        )
    if (r.topic, r.id) == ("mlp", "sigmoid-before-softmax"):
        refs.append(
            Reference(
                f"{name}: training loss with the bug, against its floor",
                r.buggy,
                SIGMOID_SOFTMAX_FLOOR,
                "ln(9 + e) - 1, the least a sigmoid-then-softmax output can reach",
                unit,
            )
        )
    return refs


def _changes(r: BugRow) -> bool:
    return not math.isclose(r.buggy, r.fixed, rel_tol=1e-6, abs_tol=1e-9)


def _value(v: float, unit: str) -> str:
    return f"{v:.2%}" if unit == "fraction" else f"{v:.4g}" + (f" {unit}" if unit else "")


def _table(m: BugsMeasurement) -> Table:
    return Table(
        "Each bug next to its fix: the line, and the number each gives on the same data",
        ("bug", "buggy line", "fixed line", "measured", "with the bug", "fixed", "course reported"),
        tuple(
            (
                f"{r.id} ({r.topic})",
                r.buggy_line,
                r.fixed_line,
                f"{r.metric}, {_name(r.data)}",
                _value(r.buggy, r.unit),
                _value(r.fixed, r.unit),
                r.reported or "–",
            )
            for r in m.rows
        ),
    )


def _get(m: BugsMeasurement, topic: str, bug_id: str) -> BugRow | None:
    return next((r for r in m.rows if (r.topic, r.id) == (topic, bug_id)), None)


def _verdict(m: BugsMeasurement) -> str:
    changed = sum(_changes(r) for r in m.rows)
    text = f"{changed} of the {len(m.rows)} catalogued bugs change their number on the same data"
    knn = _get(m, "knn", "uint8-overflow")
    if knn:
        text += (
            f"; k-NN on uint8 pixels: {knn.buggy:.2%} against {knn.fixed:.2%} on {_name(knn.data)}"
        )
    return text + "."


def _answer(m: BugsMeasurement) -> str:
    """What the catalogue shows, with this run's headline numbers."""
    changed = sum(_changes(r) for r in m.rows)
    parts = [
        f"Each of the {len(m.rows)} catalogued mistakes in the course's functions was run "
        f"next to its fix on the same data, and {changed} of them change the number."
    ]
    if knn := _get(m, "knn", "uint8-overflow"):
        parts.append(
            f"The headline: k-NN (k=3) on the raw uint8 pixels of {_name(knn.data)} labels "
            f"{knn.buggy:.2%} of the test images right against {knn.fixed:.2%} with float "
            "pixels, because a uint8 difference wraps around modulo 256; the course reported "
            "51.35% and 55.43% on MNIST."
        )
    if mlp := _get(m, "mlp", "sigmoid-before-softmax"):
        parts.append(
            "Sigmoid before softmax at the output leaves the MLP's training loss at "
            f"{mlp.buggy:.3f} nats after {len(mlp.buggy_by_epoch) or 10} epochs against "
            f"{mlp.fixed:.3f}: it can never go below ln(9 + e) - 1 = "
            f"{SIGMOID_SOFTMAX_FLOOR:.3f}, and the course's stalled at 1.51."
        )
    if loop := _get(m, "loops", "eval-updates-weights"):
        direction = "higher" if loop.buggy > loop.fixed else "lower"
        parts.append(
            "An evaluation loop that calls optimizer.step() trains on the test set: the "
            f"test accuracy measured after it is {loop.buggy:.2%} against {loop.fixed:.2%}, "
            f"{direction} and no longer a test figure."
        )
    if graph := _get(m, "graph", "graph-gradient-at-target"):
        parts.append(
            f"Back-propagating the course's graph from the target gives de/dw1 = "
            f"{graph.buggy:g}, the course's answer; from the forward value it is "
            f"{graph.fixed:.4f}."
        )
    parts.append("funml check names each of these bugs when a student's code reproduces it.")
    return " ".join(parts)


def _figures(m: BugsMeasurement) -> dict[str, Figure]:
    mlp = _get(m, "mlp", "sigmoid-before-softmax")
    if mlp is None or not mlp.buggy_by_epoch:
        return {}
    fig = Figure(figsize=(6, 3.4))
    ax = fig.subplots()
    epochs = range(1, len(mlp.buggy_by_epoch) + 1)
    ax.plot(epochs, mlp.buggy_by_epoch, "o-", label="sigmoid, then softmax (the bug)")
    ax.plot(epochs, mlp.fixed_by_epoch, "o-", label="softmax of the last layer (fixed)")
    ax.axhline(SIGMOID_SOFTMAX_FLOOR, color="grey", linestyle="--", linewidth=1)
    ax.annotate(
        f"floor with the bug: ln(9+e)-1 = {SIGMOID_SOFTMAX_FLOOR:.3f}",
        (1, SIGMOID_SOFTMAX_FLOOR),
        xytext=(0, 4),
        textcoords="offset points",
        fontsize=8,
        color="grey",
    )
    ax.set(xlabel="epoch", ylabel="training loss (nats)", ylim=(0, None))
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    caption = f"Training loss of the course's MLP on {_name(mlp.data)}, with and without the bug"
    return {caption: fig}


def _notes(m: BugsMeasurement) -> list[str]:
    scaled = " (Digits' 0..16 times 16)" if m.dataset == "digits" else ""
    notes = [
        f"{_name(m.dataset)}: the first {m.n_train:,} training and {m.n_test:,} test images, "
        f"as uint8 pixels 0..255{scaled}; conv2d uses 16 test images, graph needs no data. "
        "Every number comes from the buggy variant and funml's reference, both in the "
        "course's signatures (funml.check.effects)."
    ]
    if m.dataset != "digits":
        notes.append(
            f"k-NN compares each test image with {m.n_train:,} training images, not all of "
            "them, to keep the uint8 distances affordable: its fixed accuracy is lower than "
            "with the whole training set."
        )
    if m.loops_dataset != m.dataset:
        notes.append(
            f"The loops' bugs train a small torch MLP for 10 epochs and evaluate it; on "
            f"{_name(m.dataset)} that is slow, so they use {_name(m.loops_dataset)} "
            f"({m.loops_n_train:,} training and {m.loops_n_test:,} test images)."
        )
    return notes


# Images per split: (n_train, n_test), by (large data set, quick).
SIZES = {
    (False, False): (500, 1000),
    (False, True): (300, 400),
    (True, False): (5000, 1000),
    (True, True): (2000, 500),
}


@experiment(
    "bugs",
    summary="The course's catalogued bugs, each measured next to its fix on the same data.",
    question=(
        "What number does each of the course's mistakes produce, next to the fixed code on "
        "the same data, and which of them reached the course's graded answers?"
    ),
)
def run_bugs(settings, context) -> Result:
    quick = settings.quick
    ds = context.dataset()
    large = ds.name != "digits"
    loops = (context.digits(), *SIZES[False, quick]) if large else None
    m = measure_bugs(ds, *SIZES[large, quick], loops=loops, progress=context.progress)
    result = present_bugs(m)
    if quick:
        result.notes.append("--quick: smaller splits (see above); every bug is still measured.")
    return result
