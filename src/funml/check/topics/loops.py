"""Topic ``loops``: the course's ``train_one_epoch`` and ``test_one_epoch`` in torch, and
``misclassified_images`` for the gallery of errors (optional: skipped when absent).

The probes use a small model that returns logits (the loss is cross-entropy), with dropout
so that evaluating in training mode shows, and a test loader of 50 samples in batches of
16, so the last batch (2 samples) is smaller than the rest.
"""

from __future__ import annotations

import numpy as np

from funml.check.probe import Check, Fail, as_number, get, need, unpack

REFERENCE = "funml.check.reference.loops"
FUNCTIONS = {
    "train_one_epoch": "train_one_epoch(train_loader, model, device, optimizer, log_interval, "
    "epoch) -> (losses, counter, num_correct)",
    "test_one_epoch": "test_one_epoch(test_loader, model, device) -> (test_loss, num_correct)",
    "misclassified_images": "misclassified_images(test_loader, model, device, n_images=20) "
    "-> indices",
}
N_TEST, N_TRAIN, BATCH = 50, 40, 16


def _loader(n: int, seed: int):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 0.5).long()  # 3 classes
    return DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=False)


def _model(dropout: bool):
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers = [nn.Linear(8, 16), nn.ReLU()]
    layers += [nn.Dropout(0.5)] if dropout else []
    return nn.Sequential(*layers, nn.Linear(16, 3))


def _parameters(model) -> np.ndarray:
    return np.concatenate([p.detach().numpy().ravel() for p in model.parameters()]).astype(
        np.float64
    )


def run_test(ns) -> dict:
    import torch

    model, loader = _model(dropout=True), _loader(N_TEST, 1)
    before = _parameters(model)
    modes = []
    model.register_forward_pre_hook(lambda module, args: modes.append(module.training))
    model.train()  # as after a training epoch: test_one_epoch must switch to evaluation
    torch.manual_seed(1)
    test_loss, num_correct = unpack(
        need(ns, "test_one_epoch")(loader, model, "cpu"), 2, "test_one_epoch"
    )
    return {
        "test_loss": as_number(test_loss, "test_one_epoch's test_loss"),
        "num_correct": as_number(num_correct, "test_one_epoch's num_correct"),
        "weights_changed": bool(np.any(_parameters(model) != before)),
        "train_mode_forwards": int(sum(modes)),
    }


def run_train(ns) -> dict:
    import torch

    model, loader = _model(dropout=False), _loader(N_TRAIN, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.eval()  # train_one_epoch must switch to training itself
    out = need(ns, "train_one_epoch")(loader, model, "cpu", optimizer, 1, 1)
    losses, _, num_correct = unpack(out, 3, "train_one_epoch")
    losses = [as_number(v, "train_one_epoch's losses") for v in losses]
    return {
        "parameters": _parameters(model),
        "num_correct": as_number(num_correct, "train_one_epoch's num_correct"),
        "losses_ok": bool(losses) and bool(np.all(np.isfinite(losses))),
    }


def run_misclassified(ns) -> dict:
    model, loader = _model(dropout=False), _loader(N_TEST, 3)
    indices = need(ns, "misclassified_images")(loader, model, "cpu", 5)
    return {"indices": np.array([as_number(i, "misclassified_images") for i in indices])}


def judge_loss(got, want):
    loss = get(got, "test_loss")
    if not isinstance(loss, float | int) or not abs(loss - want["test_loss"]) <= 1e-5 * abs(
        want["test_loss"]
    ):
        raise Fail(
            f"test_loss is not the mean loss per test sample over all {N_TEST} samples "
            f"(batches of {BATCH}, the last one smaller)."
        )


def judge_correct(got, want):
    if get(got, "num_correct") != want["num_correct"]:
        raise Fail(
            f"num_correct is not the number of right predictions over all {N_TEST} test samples."
        )


def judge_unchanged(got, want):
    if get(got, "weights_changed") is not want["weights_changed"]:
        raise Fail("test_one_epoch changed the model's weights: evaluation must not train.")


def judge_eval_mode(got, want):
    if get(got, "train_mode_forwards") != want["train_mode_forwards"]:
        raise Fail("test_one_epoch ran the model in training mode (dropout on); call model.eval().")


def judge_train(got, want):
    if get(got, "losses_ok") is not True:
        raise Fail("train_one_epoch's losses are empty or not finite numbers.")
    if get(got, "num_correct") != want["num_correct"]:
        raise Fail("train_one_epoch's num_correct is not the right predictions over the epoch.")
    g = got.get("parameters")
    w = want["parameters"]
    if (
        not isinstance(g, np.ndarray)
        or g.shape != w.shape
        or not np.allclose(g, w, rtol=1e-4, atol=1e-6)
    ):
        raise Fail(
            "After train_one_epoch the model's weights differ from one epoch of SGD on the loader."
        )


def judge_misclassified(got, want):
    g = get(got, "indices")
    if not isinstance(g, np.ndarray) or g.shape != want["indices"].shape:
        raise Fail("misclassified_images did not return 5 indices when asked for 5.")
    if not np.array_equal(g, want["indices"]):
        raise Fail("misclassified_images' indices include samples the model classifies correctly.")


CHECKS = (
    Check(
        "loops-train-epoch",
        "train_one_epoch does one epoch of SGD and counts right predictions",
        run_train,
        judge_train,
    ),
    Check(
        "loops-test-loss",
        "test_one_epoch's loss is the mean per test sample (smaller last batch)",
        run_test,
        judge_loss,
    ),
    Check(
        "loops-test-correct",
        "test_one_epoch counts right predictions over the whole test set",
        run_test,
        judge_correct,
    ),
    Check(
        "loops-test-model-unchanged",
        "test_one_epoch leaves the model's weights unchanged",
        run_test,
        judge_unchanged,
    ),
    Check(
        "loops-test-eval-mode",
        "test_one_epoch evaluates in evaluation mode (model.eval())",
        run_test,
        judge_eval_mode,
    ),
    Check(
        "loops-misclassified",
        "misclassified_images returns indices of misclassified samples (optional)",
        run_misclassified,
        judge_misclassified,
        optional="misclassified_images",
    ),
)
