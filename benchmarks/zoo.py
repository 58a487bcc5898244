"""Images per second for batched inference against a plain batch-size-1 loop, per model.

    python benchmarks/zoo.py [--images 32] [--batch B] [--repeat 3] [--models a,b]

Each model handles the same photos batched (its own ``ModelSpec.batch_size``, or ``--batch``)
and one at a time, alternately, in this one process so that a busy machine slows both alike:
the forward pass alone, and ``classify`` with its preprocessing. EfficientNet-Lite0 uses its
real weights; ResNet18 and AlexNet random ones (speed does not depend on the values).
"""

from __future__ import annotations

# As the funml command does, before torch loads: sleeping OpenMP waits (funml.runtime).
from funml.runtime import configure_process

configure_process()

import argparse
import statistics

import torch
from PIL import Image

from funml.timing import alternated
from funml.zoo import classify, load_model, preprocess_batch


def photos(n: int) -> list[Image.Image]:
    """``n`` photo-sized images: scikit-learn's two sample photos, flipped and cropped."""
    from sklearn.datasets import load_sample_images

    base = [Image.fromarray(a) for a in load_sample_images().images]
    out = []
    for i in range(n):
        im = base[i % 2]
        if (i // 2) % 2:
            im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        k = (i // 4) % 8
        out.append(im.crop((4 * k, 3 * k, im.width - 4 * k, im.height - 3 * k)))
    return out


def compare(batched, single, n: int, repeat: int) -> tuple[float, float]:
    """Median images/s of two callables, run alternately so load on the machine hits both."""
    times = alternated({"batched": batched, "single": single}, repeat)
    batched_rate, single_rate = (statistics.median(n / t for t in times[k]) for k in times)
    return batched_rate, single_rate


def forward_batched(module, x: torch.Tensor, batch: int) -> None:
    with torch.inference_mode():
        for start in range(0, len(x), batch):
            module(x[start : start + batch])


def bench(name: str, images: list[Image.Image], batch: int | None, repeat: int):
    """Rows (what, batch size, batched img/s, 1-by-1 img/s) for model ``name``."""
    torch.manual_seed(0)
    model = load_model(name, pretrained=name == "efficientnet_lite0")
    batch = batch or model.spec.batch_size
    x = preprocess_batch(images, model.spec.preprocess)  # (N, 3, 224, 224)
    forward_batched(model.module, x[:batch], batch)  # warm-up
    n = len(images)
    yield (
        "forward only",
        batch,
        *compare(
            lambda: forward_batched(model.module, x, batch),
            lambda: forward_batched(model.module, x, 1),
            n,
            repeat,
        ),
    )
    yield (
        "classify (+ preprocess)",
        batch,
        *compare(
            lambda: classify(images, [model], top_k=5, batch_size=batch),
            lambda: classify(images, [model], top_k=5, batch_size=1),
            n,
            repeat,
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--batch", type=int, default=None, help="default: each model's own")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", default="efficientnet_lite0,resnet18,alexnet")
    args = parser.parse_args()
    images = photos(args.images)
    w, h = images[0].size
    print(
        f"{args.images} photos of about {w}x{h}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, median of {args.repeat} alternating runs"
    )
    print(
        f"{'model':<20}{'what':<25}{'batch':>6}{'batched img/s':>15}{'1-by-1 img/s':>14}"
        f"{'speed-up':>10}"
    )
    for name in args.models.split(","):
        for what, batch, batched, single in bench(name, images, args.batch, args.repeat):
            print(
                f"{name:<20}{what:<25}{batch:>6}{batched:>15.1f}{single:>14.1f}"
                f"{batched / single:>9.2f}x"
            )


if __name__ == "__main__":
    main()
