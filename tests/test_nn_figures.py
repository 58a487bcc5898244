"""Evaluation figures and the normalisation ablation: the right content, Figures not pyplot."""

import dataclasses

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from funml.data import load_dataset
from funml.nn import TrainSettings, build_model, predict_split, train
from funml.nn import figures as F
from funml.nn.ablation import normalization_ablation


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def run(digits):
    settings = TrainSettings(
        "digits-cnn", "digits", epochs=2, batch_size=32, lr=3e-3, n_train=200, threads=1, quiet=True
    ).resolved()
    result = train(settings, dataset=digits)
    preds = predict_split(result.model, digits.test, result.normalization).numpy()
    return result, preds


def _images_shown(fig):
    return [ax.images[0] for ax in fig.axes if ax.images]


def test_curves_by_epoch_and_by_examples_seen(run):
    result, _ = run
    fig = F.plot_history(result.history)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert list(loss_ax.lines[0].get_xdata()) == [1, 2]
    assert list(loss_ax.lines[1].get_ydata()) == [r.test_loss for r in result.history]
    assert list(acc_ax.lines[1].get_ydata()) == [100 * r.test_accuracy for r in result.history]

    fig = F.plot_loss(result.history, x="examples")
    ax = fig.axes[0]
    curve = [p for r in result.history for p in r.curve]
    assert list(ax.lines[0].get_xdata()) == [p[0] for p in curve]
    assert curve[-1][0] == result.history[-1].examples_seen == 400
    assert ax.get_xlabel() == "training examples seen"
    with pytest.raises(ValueError, match="x must be"):
        F.plot_accuracy(result.history, x="steps")


def test_plots_draw_into_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert F.plot_confusion([0, 1, 1], [0, 1, 0], ax=ax) is fig


def test_confusion_matrix_matches_scikit_learn(run, digits):
    _, preds = run
    cm = F.confusion_matrix(digits.test.labels, preds, 10)
    np.testing.assert_array_equal(cm, sk_confusion_matrix(digits.test.labels, preds))
    fig = F.plot_confusion(digits.test.labels, preds, digits.classes)
    accuracy = np.mean(preds == digits.test.labels)
    assert f"{accuracy:.2%}" in fig.axes[0].get_title()


def test_first_misclassified_images_titled_prediction_and_truth(run, digits):
    _, preds = run
    fig = F.plot_misclassified(digits.test.images, digits.test.labels, preds, digits.classes, n=6)
    wrong = np.flatnonzero(preds != digits.test.labels)
    assert len(wrong) >= 6
    shown = _images_shown(fig)
    assert len(shown) == 6
    np.testing.assert_array_equal(shown[0].get_array(), digits.test.images[wrong[0]])
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles[0] == f"pred {preds[wrong[0]]}\ntrue {digits.test.labels[wrong[0]]}"


def test_first_20_predictions(run, digits):
    _, preds = run
    fig = F.plot_predictions(digits.test.images, digits.test.labels, preds, digits.classes)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == [str(p) for p in preds[:20]]
    right = int(np.sum(preds[:20] == digits.test.labels[:20]))
    assert f"({right} right)" in fig._suptitle.get_text()


def test_first_layer_kernels_of_cnn():
    model = build_model("cnn")
    fig = F.plot_kernels(model)
    shown = _images_shown(fig)
    assert len(shown) == 32
    np.testing.assert_allclose(shown[5].get_array(), model.conv1.weight[5, 0].detach().numpy())
    assert "32 kernels of 5x5" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="no Conv2d"):
        F.plot_kernels(build_model("mlp2"))


def test_training_figures_written_atomically(run, digits, tmp_path):
    result, _ = run
    paths = F.save_training_figures(result, digits, tmp_path)
    names = {p.name for p in paths}
    assert names == {
        "curves.png",
        "curves_examples_seen.png",
        "confusion.png",
        "misclassified.png",
        "predictions.png",
        "kernels.png",
    }
    assert all(p.stat().st_size > 1000 for p in paths)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # no temporary files


def test_normalization_ablation_trains_the_same_model_both_ways(digits):
    settings = TrainSettings(
        "digits-cnn", "digits", epochs=2, batch_size=32, lr=3e-3, n_train=200, threads=1
    ).resolved()
    rows = normalization_ablation(settings, dataset=digits)
    assert [r["normalize"] for r in rows] == [True, False]
    assert rows[1]["transform"] == "(x/16 - 0.0000) / 1.0000"
    assert rows[0]["transform"] != rows[1]["transform"]
    assert all(0 < r["test_accuracy"] <= 1 and r["epochs"] == 2 for r in rows)
    normalized = train(dataclasses.replace(settings, quiet=True), dataset=digits)
    assert rows[0]["test_accuracy"] == normalized.test.accuracy  # same seed, same run
    fig = F.plot_table(rows, title="Normalisation ablation")
    assert isinstance(fig, Figure)
    cells = fig.axes[0].tables[0].get_celld()
    assert cells[(0, 0)].get_text().get_text() == "normalize"
    assert cells[(2, 0)].get_text().get_text() == "False"
