"""One recipe table: what `funml train MODEL`, the lab and the benchmarks train with."""

import dataclasses

import numpy as np
import pytest

from funml.data import load_dataset
from funml.errors import FunmlError
from funml.experiments.registry import experiments
from funml.nn import MODELS, EpochRecord, TrainSettings, recipe
from funml.nn.recipes import RECIPES, SCRATCH_RECIPES

# The registry lists experiments in the order their modules are first imported: import them
# all, in report order, before this file's own import of one of them.
experiments()
from funml.experiments.models import lab_settings, measure_model  # noqa: E402


@pytest.mark.parametrize("recipes", ["tuned", "course"])
@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_has_a_recipe_and_train_uses_it(name, recipes):
    r = recipe(name, recipes)
    settings = TrainSettings(name, recipe=recipes).resolved()
    assert {k: getattr(settings, k) for k in dataclasses.asdict(r)} == dataclasses.asdict(r)
    assert settings.recipe == recipes


def test_tuned_is_the_default_of_train():
    assert TrainSettings("cnn").resolved() == TrainSettings("cnn", recipe="tuned").resolved()


def test_the_course_recipes_are_the_courses():
    def of(name):
        r = recipe(name, "course")
        return (r.optimizer, r.lr, r.batch_size, r.epochs, r.gamma, r.momentum)

    assert of("mlp") == ("adam", 5e-4, 64, 5, None, 0.0)
    assert of("cnn") == ("adam", 1e-3, 64, 20, None, 0.0)
    assert of("mlp2") == of("cnn-small") == ("sgd", 0.01, 64, 10, 0.95, 0.0)
    assert of("logreg") == ("sgd", 0.01, 64, 20, None, 0.0)
    assert of("digits-cnn") == ("adam", 1e-3, 100, 100, None, 0.0)
    course = [recipe(n, "course") for n in MODELS]
    assert {(r.weight_decay, r.label_smoothing, r.schedule, r.augment) for r in course} == {
        (0.0, 0.0, "step", "none")
    }
    softmax, mlp = SCRATCH_RECIPES["course"]["softmax"], SCRATCH_RECIPES["course"]["mlp-scratch"]
    assert (softmax.lr, softmax.batch_size, softmax.epochs) == (1e-3, 1, 20)
    assert (mlp.lr, mlp.batch_size, mlp.epochs, mlp.hidden, mlp.dataset) == (
        1.0,
        8,
        25,
        128,
        "digits",
    )


def test_unknown_recipe_set_or_model_is_one_sentence():
    with pytest.raises(FunmlError, match="Recipe set 'best' is unknown; choose one of: course"):
        recipe("cnn", name="best")
    with pytest.raises(FunmlError, match="Recipe set 'best' is unknown"):
        TrainSettings("cnn", recipe="best").resolved()
    with pytest.raises(FunmlError, match="Unknown model 'resnet'"):
        recipe("resnet")
    assert set(RECIPES["tuned"]) == set(RECIPES["course"]) == set(MODELS)


def test_the_lab_trains_with_the_recipe_and_measures_fractions():
    ds = load_dataset("digits")
    settings = lab_settings("digits-cnn", ds, epochs=2, seed=0)
    r = recipe("digits-cnn", "course")  # the lab's default
    assert (settings.batch_size, settings.lr, settings.optimizer) == (r.batch_size, r.lr, "adam")
    m = measure_model("digits-cnn", ds, 2)
    assert 0 < m.test_accuracy <= 1 and 0 < m.train_accuracy <= 1
    assert all(isinstance(h, EpochRecord) for h in m.history) and len(m.history) == 2
    assert m.test_accuracy == m.history[-1].test_accuracy
    assert np.mean(m.predictions == ds.test.labels) == pytest.approx(m.test_accuracy)
    metrics = m.metrics()
    expected = {k: v for k, v in dataclasses.asdict(r).items() if k not in ("epochs", "lr_step")}
    assert metrics["recipe"] == expected | {"recipe": "course"}
    assert metrics["precision"] == "fp32" and metrics["threads"] == 1
    assert "curve" not in metrics["history"][0] and m.kernels.shape == (16, 1, 3, 3)


def test_the_lab_shows_the_other_recipe_set():
    from funml.experiments.context import Context
    from funml.experiments.models import lab_epochs, measure_lab, present_digits_cnn
    from funml.experiments.settings import RunSettings

    context = Context(RunSettings(quick=True))
    ds = context.digits()
    m = measure_lab("digits-cnn", ds, context)
    assert (m.settings.recipe, m.other.recipe) == ("course", "tuned")
    assert m.other.source == "measured in this run, same data" and 0 < m.other.test_accuracy <= 1
    assert m.epochs == m.other.epochs == context.sizes.digits_cnn_epochs
    result = present_digits_cnn(m, 0.9, ds)
    compared = [r for r in result.references if "course recipe vs tuned" in r.quantity]
    assert compared[0].reference == m.other.test_accuracy
    assert any("trained with the course recipe" in n for n in result.notes)
    # Full runs on a 60,000-image set train for the recipe's epochs; Digits runs for the sizes'.
    full = Context(RunSettings(dataset="fashion-mnist"))
    assert lab_epochs("cnn", full, "course") == recipe("cnn", "course").epochs == 20
    assert lab_epochs("mlp", full, "tuned") == recipe("mlp", "tuned").epochs
    assert (
        lab_epochs("cnn", Context(RunSettings()), "course")
        == Context(RunSettings()).sizes.cnn_epochs
    )
