"""The catalogue of the course's bugs: what each is, the line that makes it, and a variant.

Each :class:`Bug` names the course function it breaks and holds a **buggy variant**: a
function (or class) with the course's signature that makes exactly that mistake, in
:mod:`funml.check.variants`. Everything else about the topic stays funml's reference, so

- :func:`variant_namespace` is the reference's namespace with the variant swapped in,
  which the grader runs in its own process (it is funml's code) to recognise the bug in a
  submission whose outputs match the variant's;
- :func:`variant_source` is the same thing as submission text, which the tests check
  through the sandbox like any student's file: each variant must fail ``bug.check`` and be
  named by it.

The same id may belong to several topics (``input-mutated`` breaks softmax and mlp); the
pair (topic, id) is unique.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bug:
    """One catalogued bug.

    Attributes
    ----------
    id : str
        Stable, e.g. ``"uint8-overflow"``.
    topic : str
    description : str
        What the mistake is, one line.
    function : str
        The course function (or class) the variant replaces.
    variant_name : str
        ``"topic:name"``: the buggy function (or class) with the course's signature in
        :mod:`funml.check.variants`; :attr:`variant` imports it (torch only when needed).
    check : str
        The check of the topic that catches it.
    buggy_line, fixed_line : str
        The mistake and its fix as short code.
    reported : str or None
        What the course reported because of it, when it did.
    """

    id: str
    topic: str
    description: str
    function: str
    variant_name: str
    check: str
    buggy_line: str
    fixed_line: str
    reported: str | None = None

    @property
    def variant(self) -> Callable:
        module, name = self.variant_name.split(":")
        return getattr(importlib.import_module(f"funml.check.variants.{module}"), name)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "topic": self.topic,
            "description": self.description,
            "function": self.function,
            "check": self.check,
            "buggy_line": self.buggy_line,
            "fixed_line": self.fixed_line,
            "reported": self.reported,
        }


BUGS: tuple[Bug, ...] = (
    Bug(
        "uint8-overflow",
        "knn",
        "distances computed on the raw uint8 pixels wrap around",
        "KNNClassifier",
        "knn:KNNUint8Overflow",
        "knn-uint8-pixels",
        "d = ((X[:, None] - self.X[None]) ** 2).sum(-1)",
        "d = ((X[:, None].astype(float) - self.X[None]) ** 2).sum(-1)",
        "51.35% and 55.43% KNN accuracy on MNIST (the right figure is about 97%)",
    ),
    Bug(
        "input-mutated",
        "knn",
        "fit changes the caller's training array in place (X /= 255)",
        "KNNClassifier",
        "knn:KNNMutatesInput",
        "knn-inputs-unchanged",
        "X /= 255.0; self.X = X",
        "self.X = X / 255.0",
    ),
    Bug(
        "loss-missing-log",
        "softmax",
        "the loss J is −Σ y·softmax(u), not −Σ y·log softmax(u)",
        "J",
        "softmax:J_missing_log",
        "softmax-loss",
        "return -np.sum(y_true * softmax(W @ x + b))",
        "return -np.sum(y_true * np.log(softmax(W @ x + b)))",
    ),
    Bug(
        "bias-assigned",
        "softmax",
        "the SGD update sets b = lr * db instead of b -= lr * db",
        "SGD",
        "softmax:SGD_bias_assigned",
        "softmax-sgd-bias",
        "b = lr * db",
        "b -= lr * db",
    ),
    Bug(
        "input-mutated",
        "softmax",
        "softmax changes its argument in place (x -= max(x))",
        "softmax",
        "softmax:softmax_mutates_input",
        "softmax-input-unchanged",
        "x -= np.max(x)",
        "x = x - np.max(x)",
    ),
    Bug(
        "softmax-overflow",
        "softmax",
        "softmax without subtracting the max overflows to nan for large logits",
        "softmax",
        "softmax:softmax_overflow",
        "softmax-large-logits",
        "e = np.exp(x)",
        "e = np.exp(x - np.max(x))",
    ),
    Bug(
        "gradient-sign",
        "softmax",
        "the gradient is written (y - p) xᵀ, the ascent direction, not (p - y) xᵀ",
        "dJ",
        "softmax:dJ_sign_flipped",
        "softmax-gradients",
        "dz = y_true - p",
        "dz = p - y_true",
    ),
    Bug(
        "softmax-overflow",
        "mlp",
        "the rows' softmax without subtracting each row's max overflows to nan",
        "softmax",
        "mlp:softmax_overflow",
        "mlp-softmax-large-logits",
        "e = np.exp(x)",
        "e = np.exp(x - x.max(axis=1, keepdims=True))",
    ),
    Bug(
        "input-mutated",
        "mlp",
        "softmax changes its argument in place (x -= x.max(axis=1, keepdims=True))",
        "softmax",
        "mlp:softmax_mutates_input",
        "mlp-softmax-input-unchanged",
        "x -= x.max(axis=1, keepdims=True)",
        "x = x - x.max(axis=1, keepdims=True)",
    ),
    Bug(
        "softmax-wrong-axis",
        "mlp",
        "the softmax of a batch normalises over the whole array, not each row",
        "softmax",
        "mlp:softmax_whole_array",
        "mlp-softmax-rows",
        "return e / e.sum()",
        "return e / e.sum(axis=1, keepdims=True)",
    ),
    Bug(
        "sigmoid-before-softmax",
        "mlp",
        "the output layer applies sigmoid and then softmax, which caps every probability",
        "feed_forward",
        "mlp:feed_forward_sigmoid_softmax",
        "mlp-feed-forward",
        "output = softmax(sigmoid(hidden_layers[-2] @ weights[-1]))",
        "output = softmax(hidden_layers[-2] @ weights[-1])",
        "training loss stalled at 1.51",
    ),
    Bug(
        "backprop-updated-weights",
        "mlp",
        "back-propagation pushes the error through weights already updated in this step",
        "back_prop",
        "mlp:back_prop_updated_weights",
        "mlp-back-prop",
        "weights[i] -= lr * grad; delta = (delta @ weights[i].T) * sigmoid_prime(a)",
        "delta_next = (delta @ weights[i].T) * sigmoid_prime(a); weights[i] -= lr * grad",
        "the layer-1 gradient was 15% off",
    ),
    Bug(
        "output-delta-sigmoid-prime",
        "mlp",
        "the output error is multiplied by σ′ although softmax + cross-entropy gives p − y",
        "back_prop",
        "mlp:back_prop_output_sigmoid_prime",
        "mlp-back-prop",
        "delta = (output - batch_y) * sigmoid_prime(output)",
        "delta = output - batch_y",
    ),
    Bug(
        "unseeded-init",
        "mlp",
        "init_weights ignores fix_seed, so two runs start from different weights",
        "init_weights",
        "mlp:init_weights_unseeded",
        "mlp-init",
        "W = np.random.uniform(-1, 1, (n_in, n_out))",
        "rng = np.random.default_rng(42 if fix_seed else None)",
    ),
    Bug(
        "kernel-flipped",
        "conv2d",
        "a true convolution (flipped kernel) where torch.conv2d computes a cross-correlation",
        "my_convolution",
        "conv2d:my_convolution_flipped",
        "conv2d-values",
        "k = kernel[:, :, ::-1, ::-1]",
        "k = kernel",
    ),
    Bug(
        "graph-gradient-at-target",
        "graph",
        "the hand back-propagation used f = 1 (the target) instead of the forward value",
        "graph_answers",
        "graph:graph_answers_at_target",
        "graph-gradients",
        "df_dz = -1.0",
        "df_dz = -f",
        "de/dw1 = −0.3, de/dw2 = −0.4 (right: −0.3154, −0.4205)",
    ),
    Bug(
        "eval-updates-weights",
        "loops",
        "the evaluation loop calls backward() and optimizer.step(): it trains on the test set",
        "test_one_epoch",
        "loops:test_one_epoch_steps",
        "loops-test-model-unchanged",
        "loss.backward(); optimizer.step()",
        "with torch.no_grad(): output = model(data)",
    ),
    Bug(
        "eval-one-batch",
        "loops",
        "loss and accuracy measured on one batch and reported as the test figure",
        "test_one_epoch",
        "loops:test_one_epoch_one_batch",
        "loops-test-correct",
        "data, target = next(iter(test_loader))",
        "for data, target in test_loader:",
        '"0.83 / 0.83" train/test accuracy',
    ),
    Bug(
        "eval-mean-of-batch-means",
        "loops",
        "the test loss averages batch means, so a smaller last batch weighs too much",
        "test_one_epoch",
        "loops:test_one_epoch_mean_of_means",
        "loops-test-loss",
        "test_loss += F.cross_entropy(output, target).item() / len(test_loader)",
        "test_loss += F.cross_entropy(output, target, reduction='sum').item() / n",
    ),
    Bug(
        "eval-train-mode",
        "loops",
        "evaluation without model.eval(): dropout and batch norm behave as in training",
        "test_one_epoch",
        "loops:test_one_epoch_train_mode",
        "loops-test-eval-mode",
        "# (no model.eval())",
        "model.eval()",
    ),
    Bug(
        "wrong-index-gallery",
        "loops",
        "the first misclassified images indexed by the running error count, not the sample",
        "misclassified_images",
        "loops:misclassified_images_error_count",
        "loops-misclassified",
        "indices.append(n_errors)",
        "indices.append(sample_index)",
    ),
    Bug(
        "centred-by-global-mean",
        "pca",
        "the data is centred by the mean of all pixels, not each feature's mean",
        "center",
        "pca:center_global_mean",
        "pca-center",
        "mean = X.mean()",
        "mean = X.mean(axis=0)",
    ),
    Bug(
        "input-mutated",
        "pca",
        "center changes the caller's array in place (X -= mean)",
        "center",
        "pca:center_in_place",
        "pca-inputs-unchanged",
        "X -= mean",
        "X = X - mean",
    ),
    Bug(
        "eigenvalues-ascending",
        "pca",
        "eigh's ascending order is kept, so the first components have the least variance",
        "eigen_decomposition",
        "pca:eigen_unsorted",
        "pca-eigen",
        "return np.linalg.eigh(C)",
        "values, vectors = np.linalg.eigh(C); return values[::-1], vectors[:, ::-1]",
    ),
    Bug(
        "eigenvector-rows",
        "pca",
        "the rows of the eigenvector matrix are used where its columns are the eigenvectors",
        "project",
        "pca:project_rows",
        "pca-project",
        "Z = (X - mean) @ eigenvectors[:n_components].T",
        "Z = (X - mean) @ eigenvectors[:, :n_components]",
    ),
    Bug(
        "reconstruct-without-mean",
        "pca",
        "the reconstruction forgets to add the mean back",
        "reconstruct",
        "pca:reconstruct_without_mean",
        "pca-reconstruct",
        "return Z @ eigenvectors[:, :k].T",
        "return Z @ eigenvectors[:, :k].T + mean",
    ),
)


def bugs_for(topic: str) -> tuple[Bug, ...]:
    """The catalogue's bugs of ``topic``."""
    return tuple(b for b in BUGS if b.topic == topic)


def reference_namespace(topic: str) -> dict[str, Any]:
    """The names of funml's reference module of ``topic`` (course signatures)."""
    from funml.check.topics import get_topic

    return dict(vars(importlib.import_module(get_topic(topic).REFERENCE)))


def variant_namespace(bug: Bug) -> dict[str, Any]:
    """The reference namespace of the bug's topic with its variant in place."""
    ns = reference_namespace(bug.topic)
    ns[bug.function] = bug.variant
    return ns


def variant_source(bug: Bug) -> str:
    """The reference module's source with the bug's variant in place: a submission."""
    from funml.check.topics import get_topic

    reference = ast.parse(
        inspect.getsource(importlib.import_module(get_topic(bug.topic).REFERENCE))
    )
    variant_module = ast.parse(inspect.getsource(inspect.getmodule(bug.variant)))
    imports = [n for n in variant_module.body if isinstance(n, ast.Import | ast.ImportFrom)]
    (definition,) = ast.parse(inspect.getsource(bug.variant)).body
    definition.name = bug.function
    body = [definition if getattr(n, "name", None) == bug.function else n for n in reference.body]
    return ast.unparse(ast.Module(body=imports + body, type_ignores=[])) + "\n"
