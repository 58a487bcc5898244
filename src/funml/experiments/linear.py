"""`linear`: least squares against L1 regression with outliers, and the perceptron network."""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib.figure import Figure

from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result, Table

TRUE_SLOPE, TRUE_INTERCEPT = 2.0, 1.0
N_POINTS, N_OUTLIERS = 60, 8
N_RANDOM = 10_000  # random 5-vectors for the perceptron network's truth check


@experiment(
    "linear",
    summary="Least squares vs L1 regression (LP and subgradient) with outliers; perceptrons.",
    question=(
        "Why does minimising absolute rather than squared errors resist outliers, do the "
        "exact LP and subgradient descent agree, and can two layers of sign perceptrons "
        "recognise x1 > x2 > x3 > x4 > x5?"
    ),
)
def run_linear(settings, context) -> Result:
    from sklearn.linear_model import LinearRegression as SkLinearRegression

    from funml.scratch.linear import L1Regression, LinearRegression, l1_objective

    x, y, outlier = line_with_outliers(settings.seed)
    X = x[:, None]
    ls = LinearRegression().fit(X, y)
    lp = L1Regression(solver="linprog").fit(X, y)
    sg = L1Regression(solver="subgradient", max_iter=3000).fit(X, y)
    w_np = np.linalg.lstsq(np.c_[x, np.ones_like(x)], y, rcond=None)[0]
    sk = SkLinearRegression().fit(X, y)
    ls_diff = float(max(abs(ls.coef_[0] - w_np[0]), abs(ls.intercept_ - w_np[1])))
    net = _perceptron_checks(settings.seed)
    ls_objective = l1_objective(ls.predict(X), y)
    gap = 100 * (sg.objective_ / lp.objective_ - 1)  # percent above the exact optimum
    return Result(
        metrics={
            "least_squares": {
                "slope": float(ls.coef_[0]),
                "intercept": float(ls.intercept_),
                "solver": ls.solver_,
                "l1_objective": ls_objective,
            },
            "l1_linprog": {
                "slope": float(lp.coef_[0]),
                "intercept": float(lp.intercept_),
                "objective": lp.objective_,
            },
            "l1_subgradient": {
                "slope": float(sg.coef_[0]),
                "intercept": float(sg.intercept_),
                "objective": sg.objective_,
                "steps": sg.n_iter_,
            },
            "least_squares_vs_lstsq": ls_diff,
            "perceptron": net["metrics"],
        },
        verdict=(
            f"With {N_OUTLIERS} outliers among {N_POINTS} points, least squares tilts to slope "
            f"{ls.coef_[0]:.2f} while L1 regression keeps {lp.coef_[0]:.2f} (true "
            f"{TRUE_SLOPE:g}); the subgradient method ends {gap:.2f}% "
            f"above the LP optimum. The perceptron network is right on "
            f"{net['metrics']['random_accuracy']:.2f}% of random inputs and on "
            f"{net['metrics']['decreasing_accuracy']:.0f}% of decreasing ones."
        ),
        references=[
            Reference(
                "least squares slope",
                float(ls.coef_[0]),
                float(sk.coef_[0]),
                "scikit-learn LinearRegression, same data",
            ),
            Reference(
                "least squares vs numpy.linalg.lstsq (max |difference|)",
                ls_diff,
                0.0,
                "numpy.linalg.lstsq",
            ),
            Reference(
                "L1 (LP) slope", float(lp.coef_[0]), TRUE_SLOPE, "the line the clean points follow"
            ),
            Reference(
                "L1 objective: subgradient",
                sg.objective_,
                lp.objective_,
                "the LP optimum (scipy.optimize.linprog, HiGHS); never below it",
            ),
            Reference(
                "L1 objective: least squares line",
                ls_objective,
                lp.objective_,
                "the LP optimum: least squares pays more in absolute error",
            ),
            Reference(
                f"perceptron network on {N_RANDOM:,} random 5-vectors",
                net["metrics"]["random_accuracy"],
                100.0,
                "x1 > x2 > x3 > x4 > x5 checked directly",
                "%",
            ),
            Reference(
                "perceptron network on strictly decreasing 5-vectors",
                net["metrics"]["decreasing_accuracy"],
                100.0,
                "all +1",
                "%",
            ),
            Reference(
                "perceptron network on the 120 orderings of 1..5",
                net["metrics"]["permutations_accuracy"],
                100.0,
                "only 5,4,3,2,1 is +1",
                "%",
            ),
        ],
        figures={
            "Least squares and L1 regression on a line with outliers": _fit_figure(
                x,
                y,
                outlier,
                {"least squares": ls, "L1 (linear program)": lp, "L1 (subgradient descent)": sg},
            ),
            "Subgradient descent on Σ |residual|, against the LP optimum": _descent(
                sg.objective_history_, lp.objective_
            ),
        },
        tables=[net["table"]],
        notes=[
            f"Data: {N_POINTS} points on y = {TRUE_SLOPE:g}x + {TRUE_INTERCEPT:g} with Gaussian "
            f"noise (σ = 0.5), {N_OUTLIERS} of them moved up by 15 to 25 (seed {settings.seed})."
        ],
    )


def line_with_outliers(seed: int):
    """``(x, y, is_outlier)``: a noisy line whose largest-x points are pulled up."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 10, N_POINTS))
    y = TRUE_SLOPE * x + TRUE_INTERCEPT + rng.normal(0, 0.5, N_POINTS)
    outlier = np.zeros(N_POINTS, dtype=bool)
    outlier[-N_OUTLIERS:] = True  # at the right end, where they lever the slope most
    y[outlier] += rng.uniform(15, 25, N_OUTLIERS)
    return x, y, outlier


def _perceptron_checks(seed: int) -> dict:
    from funml.scratch.perceptron import decreasing_order_network

    net = decreasing_order_network()
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N_RANDOM, 5))
    truth = np.where(np.all(np.diff(x, axis=1) < 0, axis=1), 1, -1)
    decreasing = -np.sort(-rng.standard_normal((1000, 5)), axis=1)  # strictly, almost surely
    perms = np.array(list(itertools.permutations(range(1, 6))), dtype=float)
    perm_truth = np.where(np.all(np.diff(perms, axis=1) < 0, axis=1), 1, -1)
    metrics = {
        "random_accuracy": 100 * float(np.mean(net.predict(x) == truth)),
        "random_positives": int(np.sum(truth == 1)),
        "decreasing_accuracy": 100 * float(np.mean(net.predict(decreasing) == 1)),
        "permutations_accuracy": 100 * float(np.mean(net.predict(perms) == perm_truth)),
    }
    rows = [
        (f"hidden {i + 1}", str(net.hidden_weights[:, i].tolist()), float(net.hidden_bias[i]))
        for i in range(net.hidden_weights.shape[1])
    ]
    rows.append(("output", str(net.output_weights.tolist()), float(net.output_bias)))
    return {
        "metrics": metrics,
        "table": Table(
            "The decreasing-order network's weights", ("perceptron", "weights", "bias"), tuple(rows)
        ),
    }


def _fit_figure(x, y, outlier, models) -> Figure:
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    ax.scatter(x[~outlier], y[~outlier], s=14, color="gray", label="points")
    ax.scatter(x[outlier], y[outlier], s=22, color="black", marker="x", label="outliers")
    grid = np.linspace(0, 10, 50)[:, None]
    for (name, m), style in zip(models.items(), ("-", "--", ":"), strict=True):
        ax.plot(grid[:, 0], m.predict(grid), style, lw=2, label=f"{name}: slope {m.coef_[0]:.2f}")
    ax.plot(
        grid[:, 0],
        TRUE_SLOPE * grid[:, 0] + TRUE_INTERCEPT,
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
