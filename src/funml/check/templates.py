"""Starter files: the course's signatures with numpydoc docstrings, bodies not yet written.

``write_template("mlp", "mlp.ipynb")`` writes a notebook (a title cell, then one code cell
per function); a ``.py`` name gives the same code as one file. Every body raises
``NotImplementedError``, so an untouched template checks to 0 points without a crash.
"""

from __future__ import annotations

from pathlib import Path

from funml.check.topics import get_topic
from funml.errors import FunmlError
from funml.files import atomic_open, write_text

_TODO = '    raise NotImplementedError("write this function")\n'

_CHUNKS: dict[str, list[str]] = {
    "knn": [
        "import numpy as np\n",
        '''class KNNClassifier:
    """k-nearest-neighbour classifier (Euclidean distance, majority vote).

    Parameters
    ----------
    num_neighbors : int
        The number of neighbours that vote.
    """

    def __init__(self, num_neighbors):
        self.num_neighbors = num_neighbors

    def fit(self, X, y):
        """Remember the training data.

        Parameters
        ----------
        X : ndarray of shape (N, k)
            Training samples; may be uint8 pixels (0..255).
        y : ndarray of shape (N,), int
            Their labels.

        Returns
        -------
        self : KNNClassifier
        """
        raise NotImplementedError("write this method")

    def predict(self, X):
        """Label each row of X by the majority of its nearest training samples.

        Parameters
        ----------
        X : ndarray of shape (M, k)

        Returns
        -------
        labels : ndarray of shape (M,), int
        """
        raise NotImplementedError("write this method")
''',
    ],
    "softmax": [
        "import numpy as np\n",
        '''def softmax(x):
    """Softmax of a 1-d array of scores.

    Parameters
    ----------
    x : ndarray of shape (n,), float64; may hold large values such as 800

    Returns
    -------
    p : ndarray of shape (n,), float64, non-negative and summing to 1
    """
'''
        + _TODO,
        '''def J(W, b, y_true, x):
    """Cross-entropy loss of one sample: -Σ y_true · log softmax(W x + b).

    Parameters
    ----------
    W : ndarray of shape (classes, features), float64
    b : ndarray of shape (classes,), float64
    y_true : ndarray of shape (classes,), one-hot
    x : ndarray of shape (features,), float64

    Returns
    -------
    loss : float
    """
'''
        + _TODO,
        '''def dJ(W, b, y_true, x):
    """Gradients of J with respect to W and b.

    Parameters
    ----------
    W, b, y_true, x : as for J

    Returns
    -------
    dW : ndarray of shape (classes, features)
    db : ndarray of shape (classes,)
    """
'''
        + _TODO,
        '''def SGD(f, df, Xs, ys, n_classes=10, lr=1e-3, max_epoch=20):
    """Stochastic gradient descent, one sample at a time, from W = 0 and b = 0.

    Parameters
    ----------
    f, df : callables
        The loss J and its gradients dJ, with their signatures.
    Xs : ndarray of shape (N, features), float64
    ys : ndarray of shape (N,), int labels in [0, n_classes)
    n_classes : int
    lr : float
    max_epoch : int

    Returns
    -------
    W : ndarray of shape (n_classes, features)
    b : ndarray of shape (n_classes,)
    """
'''
        + _TODO,
    ],
    "mlp": [
        "import numpy as np\n",
        '''def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), elementwise.

    Parameters
    ----------
    x : ndarray of any shape, float64

    Returns
    -------
    s : ndarray of x's shape, values in (0, 1)
    """
'''
        + _TODO,
        '''def softmax(x):
    """Softmax of each row.

    Parameters
    ----------
    x : ndarray of shape (N, dim), float64; may hold large values such as 800

    Returns
    -------
    p : ndarray of shape (N, dim); each row sums to 1
    """
'''
        + _TODO,
        '''def init_layers(batch_size, layer_sizes):
    """One array per layer, to hold the layer's values for a batch.

    Parameters
    ----------
    batch_size : int
    layer_sizes : list of int, [n_features, *hidden, n_classes]

    Returns
    -------
    hidden_layers : list of ndarray, entry i of shape (batch_size, layer_sizes[i])
    """
'''
        + _TODO,
        '''def init_weights(layer_sizes, fix_seed=False):
    """Random weights, uniform in [-1, 1]; no biases.

    Parameters
    ----------
    layer_sizes : list of int
    fix_seed : bool
        If True, every call returns the same weights.

    Returns
    -------
    weights : list of ndarray, entry i of shape (layer_sizes[i], layer_sizes[i + 1])
    """
'''
        + _TODO,
        '''def feed_forward(batch, hidden_layers, weights):
    """Forward pass: sigmoid hidden layers, softmax output.

    Parameters
    ----------
    batch : ndarray of shape (batch_size, n_features)
    hidden_layers : list of ndarray, from init_layers
    weights : list of ndarray, from init_weights

    Returns
    -------
    output : ndarray of shape (batch_size, n_classes), the softmax probabilities
    hidden_layers : list of ndarray
        The input batch, each hidden layer's sigmoid activations, then the output.
    """
'''
        + _TODO,
        '''def sigmoid_prime(sigmoid_out):
    """Derivative of the sigmoid, given the sigmoid's output s.

    Parameters
    ----------
    sigmoid_out : ndarray, values in (0, 1)

    Returns
    -------
    ds : ndarray of the same shape
    """
'''
        + _TODO,
        '''def back_prop(output, batch_y, hidden_layers, weights, batch_size, lr):
    """One gradient-descent step on the batch-mean cross-entropy loss.

    Parameters
    ----------
    output : ndarray of shape (batch_size, n_classes), from feed_forward
    batch_y : ndarray of shape (batch_size, n_classes), one-hot targets
    hidden_layers : list of ndarray, from feed_forward
    weights : list of ndarray
    batch_size : int
    lr : float

    Returns
    -------
    weights : list of ndarray, the updated weights, shapes unchanged
    """
'''
        + _TODO,
    ],
    "conv2d": [
        "import numpy as np\n",
        '''def my_convolution(input_numpy, kernel_numpy):
    """2-D convolution as torch.conv2d computes it: stride 1, no padding.

    Parameters
    ----------
    input_numpy : ndarray of shape (B, C, H, W), float64
    kernel_numpy : ndarray of shape (O, C, kh, kw), float64

    Returns
    -------
    out : ndarray of shape (B, O, H - kh + 1, W - kw + 1)
    """
'''
        + _TODO,
    ],
    "loops": [
        "import torch\nimport torch.nn.functional as F\n",
        '''def train_one_epoch(train_loader, model, device, optimizer, log_interval, epoch):
    """Train model for one pass over train_loader (the model returns logits).

    Parameters
    ----------
    train_loader : torch DataLoader of (data, target) batches
    model : torch.nn.Module
    device : str or torch.device
    optimizer : torch.optim.Optimizer
    log_interval : int
        Record the loss every log_interval batches.
    epoch : int, from 1

    Returns
    -------
    losses : list of float
    counter : list of int, the number of samples seen at each recorded loss
    num_correct : int, right predictions over the epoch
    """
'''
        + _TODO,
        '''def test_one_epoch(test_loader, model, device):
    """Evaluate model on test_loader without changing it.

    Parameters
    ----------
    test_loader : torch DataLoader; its last batch may be smaller
    model : torch.nn.Module
    device : str or torch.device

    Returns
    -------
    test_loss : float, the mean cross-entropy per test sample
    num_correct : int
    """
'''
        + _TODO,
        '''def misclassified_images(test_loader, model, device, n_images=20):
    """Optional: the first n_images test samples the model gets wrong.

    Parameters
    ----------
    test_loader, model, device : as for test_one_epoch
    n_images : int

    Returns
    -------
    indices : list of int, positions in the test set, in loader order
    """
'''
        + _TODO,
    ],
    "pca": [
        "import numpy as np\n",
        '''def center(X):
    """Remove each feature's mean.

    Parameters
    ----------
    X : ndarray of shape (N, d), float64; leave it unchanged

    Returns
    -------
    X_centered : ndarray of shape (N, d)
    mean : ndarray of shape (d,)
    """
'''
        + _TODO,
        '''def covariance(X_centered):
    """Covariance matrix of centred data.

    Parameters
    ----------
    X_centered : ndarray of shape (N, d)

    Returns
    -------
    C : ndarray of shape (d, d), X_centeredᵀ X_centered / (N - 1)
    """
'''
        + _TODO,
        '''def eigen_decomposition(C):
    """Eigenvalues and unit eigenvectors of a covariance matrix.

    Parameters
    ----------
    C : ndarray of shape (d, d), symmetric

    Returns
    -------
    eigenvalues : ndarray of shape (d,), largest first
    eigenvectors : ndarray of shape (d, d); column i belongs to eigenvalues[i]
    """
'''
        + _TODO,
        '''def project(X, mean, eigenvectors, n_components):
    """Coordinates of X on the first n_components eigenvectors.

    Parameters
    ----------
    X : ndarray of shape (N, d)
    mean : ndarray of shape (d,), from center
    eigenvectors : ndarray of shape (d, d), from eigen_decomposition
    n_components : int

    Returns
    -------
    Z : ndarray of shape (N, n_components)
    """
'''
        + _TODO,
        '''def reconstruct(Z, mean, eigenvectors):
    """Map coordinates back to the input space.

    Parameters
    ----------
    Z : ndarray of shape (N, k), from project
    mean : ndarray of shape (d,)
    eigenvectors : ndarray of shape (d, d)

    Returns
    -------
    X_hat : ndarray of shape (N, d)
    """
'''
        + _TODO,
    ],
    "graph": [
        '''def graph_answers():
    """The course's graph f = exp(-(w1*x1 + w2*x2)) at w1=0.1, x1=0.3, w2=-0.2, x2=0.4.

    Returns
    -------
    answers : dict
        ``f`` (the forward value), ``e`` (the error f - 1 against the target 1) and
        ``de_dw1``, ``de_dw2`` (its gradients), as floats.
    """
'''
        + _TODO,
    ],
}


def template_source(topic: str) -> str:
    """The starter code of ``topic`` as one ``.py`` text."""
    get_topic(topic)
    return "\n\n".join(_CHUNKS[topic])


def write_template(topic: str, out: str | Path) -> Path:
    """Write the starter of ``topic`` to ``out`` (``.py`` or ``.ipynb``); never overwrite."""
    get_topic(topic)
    out = Path(out)
    if out.suffix.lower() not in (".py", ".ipynb"):
        raise FunmlError(f"Template file '{out}' must end in .py or .ipynb.")
    if out.exists():
        raise FunmlError(f"'{out}' already exists; choose a new --out or remove it first.")
    if out.suffix.lower() == ".py":
        header = f'"""funml check {topic}: write the functions below, then run\n'
        header += f'`funml check {topic} {out.name}`."""\n\n'
        return write_text(out, header + template_source(topic))
    import nbformat

    nb = nbformat.v4.new_notebook()
    title = f"# {topic}\n\nWrite the functions below, then run `funml check {topic} {out.name}`."
    nb.cells = [nbformat.v4.new_markdown_cell(title)]
    nb.cells += [nbformat.v4.new_code_cell(chunk.rstrip("\n")) for chunk in _CHUNKS[topic]]
    with atomic_open(out, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    return out
