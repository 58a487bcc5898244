"""Shell completion of the names the commands take: experiments, models, data sets.

Enable it once per shell (bash; zsh and fish alike with ``zsh_source``/``fish_source``)::

    eval "$(_FUNML_COMPLETE=bash_source funml)"

The names are listed here rather than imported, so that a Tab press answers at once
without loading scikit-learn or torch; ``tests/test_package.py`` checks that they are the
registries' names.
"""

from __future__ import annotations

from click.shell_completion import CompletionItem

# funml.experiments.experiments(), in report order.
EXPERIMENTS = (
    "gallery",
    "pca",
    "harris",
    "knn",
    "softmax",
    "mlp-scratch",
    "conv2d",
    "tensors",
    "graphs",
    "linear",
    "mlp",
    "cnn",
    "mlp2-vs-cnn-small",
    "logreg",
    "digits-cnn",
    "invariance",
    "normalisation",
    "batchnorm",
    "activations",
    "pretrained",
    "bugs",
)
# funml.nn.MODELS: what funml train, evaluate and summary build.
MODELS = ("logreg", "mlp", "mlp2", "cnn", "cnn-small", "digits-cnn")
# Data set names funml.data.load_dataset takes besides csv:PATH and folder:PATH.
DATASETS = ("digits", "mnist", "fashion-mnist", "csv:", "folder:")
# funml.check.TOPICS: what funml check grades.
TOPICS = ("knn", "softmax", "mlp", "conv2d", "loops", "graph", "pca")


def names(choices: tuple[str, ...], extra: tuple[str, ...] = ()):
    """A click ``shell_complete`` callback offering ``choices`` (and ``extra``) that start
    with what was typed."""

    def complete(ctx, param, incomplete: str) -> list[CompletionItem]:
        return [CompletionItem(c) for c in (*choices, *extra) if c.startswith(incomplete)]

    return complete
