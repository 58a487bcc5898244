"""`linear`: least squares against L1 regression with outliers, and the perceptron network."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
from matplotlib.figure import Figure

from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result, Table

TRUE_SLOPE, TRUE_INTERCEPT = 2.0, 1.0
N_POINTS, N_OUTLIERS = 60, 8
N_RANDOM = 10_000  # random 5-vectors for the perceptron network's truth check
N_DECREASING = 1000  # strictly decreasing 5-vectors
# Subgradient descent from random starts: slope in ±START_SLOPE, intercept in ±START_INTERCEPT.
N_STARTS, START_SLOPE, START_INTERCEPT = 8, 10.0, 20.0
RESTART_STEPS, RESTART_LR = 3000, 1.0  # steps, and the first step size (then lr / sqrt(t + 1))


@dataclass(frozen=True)
class Fit:
    """One fitted line and its L1 objective Σ |y - (slope·x + intercept)| on the data."""

    slope: float
    intercept: float
    l1_objective: float


@dataclass(frozen=True)
class PerceptronCheck:
    """The decreasing-order network against the truth; accuracies are fractions."""

    random_accuracy: float  # on N_RANDOM standard normal 5-vectors
    random_positives: int  # how many of those are strictly decreasing
    decreasing_accuracy: float  # on N_DECREASING strictly decreasing 5-vectors
    permutations_accuracy: float  # on the 120 orderings of 1..5


@dataclass(frozen=True)
class Restarts:
    """Subgradient descent on Σ |residual| from several random starts (convexity in action)."""

    starts: np.ndarray  # (N_STARTS, 2) starting (slope, intercept)
    start_objectives: np.ndarray  # (N_STARTS,)
    ends: np.ndarray  # (N_STARTS, 2) the best (slope, intercept) each run reached
    objectives: np.ndarray  # (N_STARTS,) Σ |residual| there
    steps: int


@dataclass(frozen=True)
class LinearMeasurement:
    """Least squares and L1 regression on one noisy line with outliers, and the perceptrons."""

    seed: int
    x: np.ndarray  # (N_POINTS,), sorted
    y: np.ndarray  # (N_POINTS,)
    outlier: np.ndarray  # (N_POINTS,) bool
    least_squares: Fit
    least_squares_solver: str
    l1_linprog: Fit  # the exact optimum (scipy.optimize.linprog, HiGHS)
    l1_subgradient: Fit
    subgradient_steps: int
    subgradient_history: np.ndarray  # (steps,) the objective after each step
    sklearn_slope: float  # scikit-learn's LinearRegression on the same data
    least_squares_vs_lstsq: float  # max |difference| of slope and intercept
    xtx_condition: float  # condition number of XᵀX, X = [x, 1]: finite, so XᵀX is invertible
    zero_residuals: int  # points the LP optimum passes through (|residual| < 1e-9)
    restarts: Restarts
    perceptron: PerceptronCheck


@experiment(
    "linear",
    summary="Least squares vs L1 regression (LP and subgradient) with outliers; perceptrons.",
    question=(
        "Why does minimising absolute rather than squared errors resist outliers, why has the "
        "L1 loss ||Xw - y||₁ no closed form, what algorithms minimise it, can they get stuck "
        "in a local minimum, and can two layers of sign perceptrons recognise "
        "x1 > x2 > x3 > x4 > x5?"
    ),
)
def run_linear(settings, context) -> Result:
    return present_linear(measure_linear(settings.seed))


def measure_linear(seed: int = 0) -> LinearMeasurement:
    """Fit least squares and L1 regression (LP and subgradient) to :func:`line_with_outliers`."""
    from sklearn.linear_model import LinearRegression as SkLinearRegression

    from funml.scratch.linear import L1Regression, LinearRegression, l1_objective

    x, y, outlier = line_with_outliers(seed)
    X = x[:, None]  # (N_POINTS, 1)
    ls = LinearRegression().fit(X, y)
    lp = L1Regression(solver="linprog").fit(X, y)
    sg = L1Regression(solver="subgradient", max_iter=3000).fit(X, y)
    w_np = np.linalg.lstsq(np.c_[x, np.ones_like(x)], y, rcond=None)[0]
    sk = SkLinearRegression().fit(X, y)
    design = np.c_[x, np.ones_like(x)]
    lp_residuals = y - lp.predict(X)
    return LinearMeasurement(
        seed=seed,
        x=x,
        y=y,
        outlier=outlier,
        least_squares=Fit(float(ls.coef_[0]), float(ls.intercept_), l1_objective(ls.predict(X), y)),
        least_squares_solver=ls.solver_,
        l1_linprog=Fit(float(lp.coef_[0]), float(lp.intercept_), lp.objective_),
        l1_subgradient=Fit(float(sg.coef_[0]), float(sg.intercept_), sg.objective_),
        subgradient_steps=sg.n_iter_,
        subgradient_history=np.asarray(sg.objective_history_),
        sklearn_slope=float(sk.coef_[0]),
        least_squares_vs_lstsq=float(max(abs(ls.coef_[0] - w_np[0]), abs(ls.intercept_ - w_np[1]))),
        xtx_condition=float(np.linalg.cond(design.T @ design)),
        zero_residuals=int(np.sum(np.abs(lp_residuals) < 1e-9)),
        restarts=subgradient_restarts(design, y, seed),
        perceptron=check_perceptrons(seed),
    )


def subgradient_restarts(
    a: np.ndarray, y: np.ndarray, seed: int = 0, steps: int = RESTART_STEPS
) -> Restarts:
    """Subgradient descent on Σ |a w - y| from N_STARTS random w at once, keeping each run's
    best point; ``a`` is the design matrix [x, 1], w = (slope, intercept)."""
    rng = np.random.default_rng(seed)
    w = np.c_[
        rng.uniform(-START_SLOPE, START_SLOPE, N_STARTS),
        rng.uniform(-START_INTERCEPT, START_INTERCEPT, N_STARTS),
    ]  # (N_STARTS, 2)

    def objective(w):
        return np.abs(a @ w.T - y[:, None]).sum(axis=0)  # (N_STARTS,)

    starts, best_w, best = w.copy(), w.copy(), objective(w)
    for step in range(steps):
        sign = np.sign(a @ w.T - y[:, None])  # (n, N_STARTS): a subgradient's signs
        w = w - RESTART_LR / np.sqrt(step + 1) * (sign.T @ a) / len(y)
        value = objective(w)
        better = value < best
        best, best_w[better] = np.where(better, value, best), w[better]
    return Restarts(starts, objective(starts), best_w, best, steps)


def present_linear(m: LinearMeasurement) -> Result:
    """The metrics, verdict, references, figures and weights table of :func:`measure_linear`."""
    ls, lp, sg, net = m.least_squares, m.l1_linprog, m.l1_subgradient, m.perceptron
    return Result(
        metrics=_metrics(m),
        verdict=(
            f"With {N_OUTLIERS} outliers among {N_POINTS} points, least squares tilts to slope "
            f"{ls.slope:.2f} while L1 regression keeps {lp.slope:.2f} (true {TRUE_SLOPE:g}); "
            f"the subgradient method ends {sg.l1_objective / lp.l1_objective - 1:.2%} above the "
            f"LP optimum. The perceptron network is right on {net.random_accuracy:.2%} of "
            f"random inputs and on {net.decreasing_accuracy:.0%} of decreasing ones."
        ),
        answer=answer_linear(m),
        references=_references(m),
        figures={
            "Least squares and L1 regression on a line with outliers": _fit_figure(
                m.x,
                m.y,
                m.outlier,
                {"least squares": ls, "L1 (linear program)": lp, "L1 (subgradient descent)": sg},
            ),
            "Subgradient descent on Σ |residual|, against the LP optimum": _descent(
                m.subgradient_history, lp.l1_objective
            ),
        },
        tables=[_network_table()],
        notes=[
            f"Data: {N_POINTS} points on y = {TRUE_SLOPE:g}x + {TRUE_INTERCEPT:g} with Gaussian "
            f"noise (σ = 0.5), {N_OUTLIERS} of them moved up by 15 to 25 (seed {m.seed})."
        ],
    )


def _metrics(m: LinearMeasurement) -> dict:
    ls, lp, sg, rs = m.least_squares, m.l1_linprog, m.l1_subgradient, m.restarts
    return {
        "least_squares": {
            "slope": ls.slope,
            "intercept": ls.intercept,
            "solver": m.least_squares_solver,
            "l1_objective": ls.l1_objective,
        },
        "l1_linprog": {"slope": lp.slope, "intercept": lp.intercept, "objective": lp.l1_objective},
        "l1_subgradient": {
            "slope": sg.slope,
            "intercept": sg.intercept,
            "objective": sg.l1_objective,
            "steps": m.subgradient_steps,
        },
        "least_squares_vs_lstsq": m.least_squares_vs_lstsq,
        "xtx_condition_number": m.xtx_condition,
        "zero_residuals_at_l1_optimum": m.zero_residuals,
        "subgradient_restarts": {
            "starts": m.restarts.starts.tolist(),
            "start_objectives": m.restarts.start_objectives.tolist(),
            "objectives": m.restarts.objectives.tolist(),
            "steps": m.restarts.steps,
            "max_gap_to_lp": float(rs.objectives.max() / lp.l1_objective - 1),
        },
        "perceptron": asdict(m.perceptron),
    }


def answer_linear(m: LinearMeasurement) -> str:
    """The course's questions on the L1 loss answered with this run's numbers."""
    lp, sg, rs = m.l1_linprog, m.l1_subgradient, m.restarts
    solved = "solves" if m.least_squares_solver == "normal_equations" else "could solve"
    return (
        "In matrix form the L1 loss is ||Xw - y||₁ = Σ_i |x_iᵀw - y_i|, X with a column of ones "
        "for the intercept. It has no closed form because |r| is not differentiable at r = 0: "
        "the optimality condition 0 ∈ Xᵀs, with s_i = sign(x_iᵀw - y_i) and any s_i in [-1, 1] "
        "where a residual is 0, has sign terms instead of a linear equation, and the optimum "
        f"here lies exactly on {m.zero_residuals} of the {len(m.y)} points, on those kinks. "
        "It is NOT because XᵀX is singular, as the course's answer said: here XᵀX has "
        f"condition number {m.xtx_condition:.0f}, and least squares {solved} XᵀXw = Xᵀy with it. "
        f"Linear programming (min Σ s_i with -s ≤ Xw - y ≤ s) is exact, {lp.l1_objective:.4f} "
        "here, but adds a variable and two constraints per point; subgradient descent is "
        "simple and cheap per step but slow, needs a shrinking step and has no stopping test: "
        f"after {m.subgradient_steps} steps it is {sg.l1_objective / lp.l1_objective - 1:.1e} "
        "above the optimum (relative). The L1 loss is convex (a sum of absolute values of "
        "affine functions), so it has no bad local minima, contrary to a course answer: from "
        f"{len(rs.objectives)} random starts (objectives {rs.start_objectives.min():.0f} to "
        f"{rs.start_objectives.max():.0f}) subgradient descent ends within "
        f"{rs.objectives.max() / lp.l1_objective - 1:.1e} of the optimum."
    )


def _references(m: LinearMeasurement) -> list[Reference]:
    lp, net = m.l1_linprog, m.perceptron
    return [
        Reference(
            "least squares slope",
            m.least_squares.slope,
            m.sklearn_slope,
            "scikit-learn LinearRegression, same data",
        ),
        Reference(
            "least squares vs numpy.linalg.lstsq (max |difference|)",
            m.least_squares_vs_lstsq,
            0.0,
            "numpy.linalg.lstsq",
        ),
        Reference("L1 (LP) slope", lp.slope, TRUE_SLOPE, "the line the clean points follow"),
        Reference(
            "L1 objective: subgradient",
            m.l1_subgradient.l1_objective,
            lp.l1_objective,
            "the LP optimum (scipy.optimize.linprog, HiGHS); never below it",
        ),
        Reference(
            "L1 objective: least squares line",
            m.least_squares.l1_objective,
            lp.l1_objective,
            "the LP optimum: least squares pays more in absolute error",
        ),
        Reference(
            f"L1 objective: worst of {len(m.restarts.objectives)} subgradient random restarts",
            float(m.restarts.objectives.max()),
            lp.l1_objective,
            "the LP optimum: a convex loss has no other local minimum",
        ),
        Reference(
            f"perceptron network on {N_RANDOM:,} random 5-vectors",
            net.random_accuracy,
            1.0,
            "x1 > x2 > x3 > x4 > x5 checked directly",
            "%",
        ),
        Reference(
            "perceptron network on strictly decreasing 5-vectors",
            net.decreasing_accuracy,
            1.0,
            "all +1",
            "%",
        ),
        Reference(
            "perceptron network on the 120 orderings of 1..5",
            net.permutations_accuracy,
            1.0,
            "only 5,4,3,2,1 is +1",
            "%",
        ),
    ]


def line_with_outliers(seed: int):
    """``(x, y, is_outlier)``: a noisy line whose largest-x points are pulled up."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 10, N_POINTS))
    y = TRUE_SLOPE * x + TRUE_INTERCEPT + rng.normal(0, 0.5, N_POINTS)
    outlier = np.zeros(N_POINTS, dtype=bool)
    outlier[-N_OUTLIERS:] = True  # at the right end, where they lever the slope most
    y[outlier] += rng.uniform(15, 25, N_OUTLIERS)
    return x, y, outlier


def check_perceptrons(seed: int) -> PerceptronCheck:
    """The decreasing-order network on random, strictly decreasing and permuted 5-vectors."""
    from funml.scratch.perceptron import decreasing_order_network

    net = decreasing_order_network()
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N_RANDOM, 5))
    truth = np.where(np.all(np.diff(x, axis=1) < 0, axis=1), 1, -1)
    decreasing = -np.sort(-rng.standard_normal((N_DECREASING, 5)), axis=1)  # strictly, a.s.
    perms = np.array(list(itertools.permutations(range(1, 6))), dtype=float)
    perm_truth = np.where(np.all(np.diff(perms, axis=1) < 0, axis=1), 1, -1)
    return PerceptronCheck(
        random_accuracy=float(np.mean(net.predict(x) == truth)),
        random_positives=int(np.sum(truth == 1)),
        decreasing_accuracy=float(np.mean(net.predict(decreasing) == 1)),
        permutations_accuracy=float(np.mean(net.predict(perms) == perm_truth)),
    )


def _network_table() -> Table:
    from funml.scratch.perceptron import decreasing_order_network

    net = decreasing_order_network()
    rows = [
        (f"hidden {i + 1}", str(net.hidden_weights[:, i].tolist()), float(net.hidden_bias[i]))
        for i in range(net.hidden_weights.shape[1])
    ]
    rows.append(("output", str(net.output_weights.tolist()), float(net.output_bias)))
    return Table(
        "The decreasing-order network's weights", ("perceptron", "weights", "bias"), tuple(rows)
    )


def _fit_figure(x, y, outlier, fits: dict[str, Fit]) -> Figure:
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    ax.scatter(x[~outlier], y[~outlier], s=14, color="gray", label="points")
    ax.scatter(x[outlier], y[outlier], s=22, color="black", marker="x", label="outliers")
    grid = np.linspace(0, 10, 50)
    for (name, fit), style in zip(fits.items(), ("-", "--", ":"), strict=True):
        line = fit.slope * grid + fit.intercept
        ax.plot(grid, line, style, lw=2, label=f"{name}: slope {fit.slope:.2f}")
    ax.plot(
        grid,
        TRUE_SLOPE * grid + TRUE_INTERCEPT,
        color="C2",
        alpha=0.4,
        lw=6,
        label="true line",
        zorder=0,
    )
    ax.set(xlabel="x", ylabel="y")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _descent(history, optimum) -> Figure:
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    ax.plot(np.arange(1, len(history) + 1), history, label="subgradient descent")
    ax.axhline(optimum, color="C3", ls="--", label=f"LP optimum {optimum:.2f}")
    ax.set(xlabel="step", ylabel="Σ |residual|", yscale="log")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
