"""One recipe table: what `funml train MODEL`, the lab and the benchmarks train with."""

import dataclasses

import numpy as np
import pytest

from funml.data import load_dataset
from funml.errors import FunmlError
from funml.experiments.registry import experiments
from funml.nn import MODELS, EpochRecord, TrainSettings, recipe
from funml.nn.recipes import RECIPES

# The registry lists experiments in the order their modules are first imported: import them
# all, in report order, before this file's own import of one of them.
experiments()
from funml.experiments.models import lab_settings, measure_model  # noqa: E402


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_has_a_recipe_and_train_uses_it(name):
    r = recipe(name)
    settings = TrainSettings(name).resolved()
    assert {k: getattr(settings, k) for k in dataclasses.asdict(r)} == dataclasses.asdict(r)


def test_unknown_recipe_set_or_model_is_one_sentence():
    with pytest.raises(FunmlError, match="Recipe set 'course' is unknown; choose one of: tuned"):
        recipe("cnn", name="course")
    with pytest.raises(FunmlError, match="Unknown model 'resnet'"):
        recipe("resnet")
    assert set(RECIPES["tuned"]) == set(MODELS)


def test_the_lab_trains_with_the_recipe_and_measures_fractions():
    ds = load_dataset("digits")
    settings = lab_settings("digits-cnn", ds, epochs=2, seed=0)
    r = recipe("digits-cnn")
    assert (settings.batch_size, settings.lr, settings.optimizer) == (r.batch_size, r.lr, "adam")
    m = measure_model("digits-cnn", ds, 2)
    assert 0 < m.test_accuracy <= 1 and 0 < m.train_accuracy <= 1
    assert all(isinstance(h, EpochRecord) for h in m.history) and len(m.history) == 2
    assert m.test_accuracy == m.history[-1].test_accuracy
    assert np.mean(m.predictions == ds.test.labels) == pytest.approx(m.test_accuracy)
    metrics = m.metrics()
    assert metrics["recipe"] == {"optimizer": "adam", "lr": r.lr, "batch_size": 16, "gamma": None}
    assert "curve" not in metrics["history"][0] and m.kernels.shape == (16, 1, 3, 3)
