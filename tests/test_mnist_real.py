"""The course's own data: funml on the full official MNIST, when the machine has it.

Full load and digest acceptance are tested in test_data_real.py; here the algorithms meet
the real digits. A user's checkout has no ../shared, so these are skipped there, saying why.
"""

import pytest

from conftest import MNIST_DIR
from funml.data import load_dataset
from funml.experiments.context import subset
from funml.experiments.knn import measure_knn
from funml.nn import TrainSettings, train

needs_full_mnist = pytest.mark.skipif(
    not all(
        (MNIST_DIR / f"{split}-{kind}-idx{dims}-ubyte.gz").is_file()
        for split in ("train", "t10k")
        for kind, dims in (("images", 3), ("labels", 1))
    ),
    reason=f"the full official MNIST (60,000 training images) is not in {MNIST_DIR}",
)


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist", data_dir=MNIST_DIR, download=False)


@needs_full_mnist
def test_knn_agrees_with_scikit_learn_on_an_mnist_subset(mnist):
    # 5,000 training and 500 test digits, k=3, distances in float64 on raw pixels: exact,
    # so a prediction may differ only where the 3rd and 4th neighbours tie.
    m = measure_knn(subset(mnist, 5_000, 500), ks=(3,))
    r = m.by_k[3]
    assert (m.n_train, m.n_test) == (5_000, 500)
    assert r.disagreements == r.disagreements_at_exact_ties
    assert r.agreement >= 0.99


@needs_full_mnist
@pytest.mark.slow
def test_one_epoch_of_the_course_cnn_beats_97_percent_on_mnist(mnist, tmp_path):
    # The course's cnn recipe (Adam 1e-3, batch 64) for one epoch on all 60,000 training
    # digits, evaluated on the 10,000 test digits. (A decay would act after the epoch.)
    settings = TrainSettings(
        model="cnn",
        dataset="mnist",
        epochs=1,
        seed=0,
        quiet=True,
        recipe="course",
        precision="fp32",
    ).resolved()
    assert (settings.optimizer, settings.lr, settings.batch_size) == ("adam", 1e-3, 64)
    result = train(settings, dataset=mnist, out_dir=tmp_path)
    assert len(result.history) == 1 and result.test.count == 10_000
    assert result.test.accuracy > 0.97
