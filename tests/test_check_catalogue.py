"""The mutation score: every catalogued bug is caught by its check and named; funml's own
reference in the course's signatures scores full marks. Parametrized over the catalogue and
the topics, so a new entry is tested automatically."""

import importlib
import inspect

import numpy as np
import pytest

from funml.check import BUGS, TOPICS, CheckSettings, Limits, check_submission, get_topic
from funml.check.catalogue import reference_namespace, variant_namespace, variant_source

SETTINGS = CheckSettings(limits=Limits(seconds=60.0))


def _check(tmp_path, topic, source):
    path = tmp_path / "submission.py"
    path.write_text(source)
    return check_submission(topic, path, SETTINGS)


@pytest.mark.parametrize("bug", BUGS, ids=[f"{b.topic}-{b.id}" for b in BUGS])
def test_each_buggy_variant_fails_its_check_and_is_named(tmp_path, bug):
    report = _check(tmp_path, bug.topic, variant_source(bug))
    result = {c.name: c for c in report.checks}[bug.check]
    assert not result.passed, report.format_table()
    assert result.bug == bug.id, report.format_table()
    assert result.message and bug.id not in result.message


@pytest.mark.parametrize("topic", TOPICS)
def test_the_reference_scores_full_marks(tmp_path, topic):
    source = inspect.getsource(importlib.import_module(get_topic(topic).REFERENCE))
    report = _check(tmp_path, topic, source)
    assert report.passed, report.format_table()
    assert report.score == report.max_score == len(get_topic(topic).CHECKS)


def test_catalogue_entries_are_complete_and_unique():
    assert len({(b.topic, b.id) for b in BUGS}) == len(BUGS) >= 15
    required = {
        "uint8-overflow",
        "loss-missing-log",
        "bias-assigned",
        "input-mutated",
        "softmax-overflow",
        "sigmoid-before-softmax",
        "backprop-updated-weights",
        "output-delta-sigmoid-prime",
        "eval-updates-weights",
        "eval-one-batch",
        "eval-mean-of-batch-means",
        "eval-train-mode",
        "wrong-index-gallery",
        "graph-gradient-at-target",
        "kernel-flipped",
    }
    assert required <= {b.id for b in BUGS}
    for b in BUGS:
        assert b.check in {c.name for c in get_topic(b.topic).CHECKS}
        assert b.buggy_line and b.fixed_line and b.buggy_line != b.fixed_line
        assert set(inspect.signature(b.variant).parameters) == set(
            inspect.signature(reference_namespace(b.topic)[b.function]).parameters
        )


def test_variant_namespace_swaps_one_function():
    bug = next(b for b in BUGS if b.id == "graph-gradient-at-target")
    answers = variant_namespace(bug)["graph_answers"]()
    np.testing.assert_allclose([answers["de_dw1"], answers["de_dw2"]], [-0.3, -0.4])
    right = reference_namespace("graph")["graph_answers"]()
    np.testing.assert_allclose([right["de_dw1"], right["de_dw2"]], [-0.3154, -0.4205], atol=1e-4)


def test_reference_gradients_match_finite_differences():
    ns = reference_namespace("softmax")
    rng = np.random.default_rng(0)
    W, b, x = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=4)
    y = np.eye(3)[2]
    dW, db = ns["dJ"](W, b, y, x)
    h = 1e-6
    for idx in np.ndindex(W.shape):
        Wp, Wm = W.copy(), W.copy()
        Wp[idx] += h
        Wm[idx] -= h
        assert abs((ns["J"](Wp, b, y, x) - ns["J"](Wm, b, y, x)) / (2 * h) - dW[idx]) < 1e-6
    for i in range(3):
        bp, bm = b.copy(), b.copy()
        bp[i] += h
        bm[i] -= h
        assert abs((ns["J"](W, bp, y, x) - ns["J"](W, bm, y, x)) / (2 * h) - db[i]) < 1e-6


def test_reference_convolution_equals_torch():
    import torch

    rng = np.random.default_rng(1)
    x, k = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2))
    ns = reference_namespace("conv2d")
    want = torch.conv2d(torch.from_numpy(x), torch.from_numpy(k)).numpy()
    np.testing.assert_allclose(ns["my_convolution"](x, k), want, rtol=1e-10, atol=1e-12)


def test_reference_pca_steps_agree_with_funml_pca():
    from funml.scratch.pca import PCA

    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 5)) * [4, 3, 2, 1, 0.5] + 7
    ns = reference_namespace("pca")
    xc, mean = ns["center"](X)
    values, vectors = ns["eigen_decomposition"](ns["covariance"](xc))
    pca = PCA(n_components=3).fit(X)
    np.testing.assert_allclose(values[:3], pca.explained_variance_, rtol=1e-10)
    z = ns["project"](X, mean, vectors, 3)
    signs = np.sign(np.sum(z * pca.transform(X), axis=0))
    np.testing.assert_allclose(z * signs, pca.transform(X), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ns["reconstruct"](z, mean, vectors), pca.reconstruct(X), atol=1e-10)
