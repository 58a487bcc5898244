"""The example notebooks (notebooks/*.py, Jupytext text files) run in a real Jupyter kernel.

Each is converted to a notebook with jupytext and executed with nbclient in an ipykernel
running this interpreter, in an empty folder, on the offline default data. No cell may
fail, each must finish within its time bound, and the figures it is about must be in its
outputs: as ``image/png`` display data (matplotlib) or as inline base64 PNGs in the HTML a
funml result displays (their ``alt`` text is the figure's caption).
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext", reason="the notebook test needs the dev extra")
nbclient = pytest.importorskip("nbclient", reason="the notebook test needs the dev extra")
pytest.importorskip("ipykernel", reason="the notebook test needs the dev extra")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SECONDS = 120  # per notebook; each measured 2-25 s on a busy 2-core machine

# Notebook -> captions of figures that must be shown, and how many image/png outputs
# (figures displayed by matplotlib itself) at least.
EXPECTED: dict[str, tuple[list[str], int]] = {
    "01_data_and_pca": (
        [
            "digits: the first training image of each class",
            "Eigenvalues of the covariance in descending order, and the variance kept",
            "Test images projected on the first two components",
            "Reconstructions of one image per class from k components",
        ],
        0,
    ),
    "02_harris": (
        [
            "Checkerboard: image, Harris response and corner/edge/flat map",
            "Eigenvalues of the structure tensor at every pixel, by label",
        ],
        0,
    ),
    "03_knn_and_softmax": (
        [
            "Test accuracy and time for each k, funml and scikit-learn",
            "Training loss per epoch (per-sample SGD, lr 1e-3)",
        ],
        0,
    ),
    "04_mlp_and_backprop": (
        ["Training and validation loss and accuracy, and the time of each epoch"],
        0,
    ),
    "05_autodiff": (["Sigmoid neuron 1/(1+exp(-(w0*x0+w1*x1+w2)))"], 1),
    "06_torch_training": (
        [
            "Loss and accuracy",  # funml.train's result
            "digits-cnn: confusion matrix on the test split",
            "digits-cnn: first-layer kernels",
        ],
        0,
    ),
    "07_pretrained_on_your_photos": (
        ["efficientnet_lite0: each photo titled with its top-1 class"],
        1,
    ),
    "08_check_your_implementation": ([], 0),
}
# Notebook -> text its outputs must hold: funml check names the bug, then passes the fix.
TEXT = {"08_check_your_implementation": ["[bug: input-mutated]", "score: 6/6"]}
IMG_ALT = re.compile(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="([^"]*)"')


def test_every_notebook_has_its_expectations():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.py")) == sorted(EXPECTED)


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """A kernel spec for this interpreter, so the notebooks import this funml."""
    import os

    from ipykernel.kernelspec import write_kernel_spec

    folder = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(folder / "kernels" / "funml-test")
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(folder)
    yield "funml-test"
    if previous is None:
        del os.environ["JUPYTER_PATH"]
    else:
        os.environ["JUPYTER_PATH"] = previous


@pytest.mark.slow  # a kernel and a few experiments each: 2-25 s
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_and_shows_its_figures(name, kernel_name, tmp_path, monkeypatch):
    # The kernel's own matplotlib backend (inline), not the tests' Agg.
    monkeypatch.delenv("MPLBACKEND", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    nb = jupytext.read(NOTEBOOKS / f"{name}.py")
    client = nbclient.NotebookClient(
        nb, timeout=SECONDS, kernel_name=kernel_name, resources={"metadata": {"path": str(work)}}
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on an error
    seconds = time.perf_counter() - start
    assert seconds < SECONDS, f"{name} took {seconds:.0f} s"

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    captions = [
        alt for o in outputs for alt in IMG_ALT.findall(o.get("data", {}).get("text/html", ""))
    ]
    captions = [html.unescape(c) for c in captions]
    wanted, pngs = EXPECTED[name]
    for caption in wanted:
        assert any(c.startswith(caption) for c in captions), (caption, captions)
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= pngs
    assert list(work.iterdir()) == [], "a notebook wrote into its folder"
    shown = "".join(
        o.get("text", "")
        + "".join(o.get("data", {}).get(k, "") for k in ("text/plain", "text/html"))
        for o in outputs
    )
    for text in TEXT.get(name, []):
        assert text in shown, (text, shown[-3000:])
