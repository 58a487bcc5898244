"""`conv2d`: funml's NumPy convolution against ``torch.conv2d``: shapes, values, speed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from matplotlib.figure import Figure

from funml.experiments.registry import experiment
from funml.experiments.result import Reference, Result, Table
from funml.timing import alternated, best_of

# (N, C, H, W), (O, C, kH, kW), stride, padding: square and non-square, strided and padded.
CASES = (
    ((2, 3, 9, 9), (4, 3, 3, 3), 1, 0),
    ((2, 3, 9, 11), (4, 3, 5, 3), 2, 1),
    ((1, 1, 28, 28), (32, 1, 5, 5), 1, 0),  # the course CNN's first layer
    ((2, 4, 12, 12), (6, 4, 5, 5), 1, 2),
    ((3, 2, 7, 10), (1, 2, 2, 4), 2, 2),
)
SPEED_CHANNELS = (32, 12, 12, 64, 5)  # C, H, W, O, k: the course CNN's second layer
LOOP_SHAPES = ((1, 3, 10, 10), (4, 3, 3, 3))  # small: the six-loop version is slow
KERNELS = {
    "Sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "Laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "3x3 mean": [[1 / 9] * 3] * 3,
}


@dataclass(frozen=True)
class ShapeCase:
    """One input and weight shape, funml against torch in float64, forward and backward."""

    input: tuple[int, ...]  # (N, C, H, W)
    weights: tuple[int, ...]  # (O, C, kH, kW)
    stride: int
    padding: int
    output: tuple[int, ...]
    output_torch: tuple[int, ...]
    max_abs_difference: float  # over the output and the three gradients


@dataclass(frozen=True)
class Conv2dMeasurement:
    cases: tuple[ShapeCase, ...]
    max_abs_difference_float64: float  # the largest over the cases
    max_abs_difference_float32: float  # forward, on the speed test's input
    speed_input: tuple[int, ...]  # (N, C, H, W), float32
    speed_weights: tuple[int, ...]
    forward_seconds: float  # best time per call
    forward_seconds_torch: float
    backward_seconds: float
    backward_seconds_torch: float
    loop_seconds_small: float  # the six-loop conv2d_loop on LOOP_SHAPES
    vectorised_seconds_small: float
    loop_vs_vectorised_difference: float
    demo_max_abs_difference: float  # the KERNELS on one image, against torch
    torch_threads: int
    demo_image: np.ndarray = field(repr=False)  # (H, W) in [0, 1]
    demo_filtered: np.ndarray = field(repr=False)  # (len(KERNELS), H, W)

    @property
    def forward_ratio(self) -> float:
        return self.forward_seconds / self.forward_seconds_torch

    @property
    def backward_ratio(self) -> float:
        return self.backward_seconds / self.backward_seconds_torch


def measure_conv2d(
    image: np.ndarray, *, batch: int = 64, seed: int = 0, repeats: int = 5
) -> Conv2dMeasurement:
    """funml's conv2d and conv2d_backward against torch: values on CASES, speed, a demo.

    ``image`` (H, W), pixels in [0, 1], is filtered by the KERNELS. Speed is on ``batch``
    float32 inputs of the course CNN's second layer: the best of ``repeats`` calls of each
    of the four, alternated so load on the machine slows them alike.
    """
    import torch
    import torch.nn.functional as F

    from funml.scratch.conv import conv2d, conv2d_backward

    rng = np.random.default_rng(seed)
    cases = tuple(_case(rng, *case) for case in CASES)
    # Speed, float32 as networks use it: the course CNN's second layer on a batch.
    c, h, wd, o, k = SPEED_CHANNELS
    x = rng.standard_normal((batch, c, h, wd), dtype=np.float32)
    w = rng.standard_normal((o, c, k, k), dtype=np.float32)
    g = rng.standard_normal((batch, o, h - k + 1, wd - k + 1), dtype=np.float32)
    tx, tw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
    times = alternated(
        {
            "forward": lambda: conv2d(x, w),
            "forward_torch": lambda: F.conv2d(tx.detach(), tw.detach()),
            "backward": lambda: conv2d_backward(g, x, w),
            "backward_torch": lambda: torch.autograd.grad(
                F.conv2d(tx, tw), (tx, tw), torch.from_numpy(g)
            ),
        },
        repeats,
    )
    best = {name: min(ts) for name, ts in times.items()}
    f32_diff = np.abs(conv2d(x, w) - F.conv2d(tx, tw).detach().numpy()).max()
    loop_seconds, vec_seconds, loop_diff = _loop_against_vectorised(rng)
    filtered, demo_diff = _demo(image)
    return Conv2dMeasurement(
        cases=cases,
        max_abs_difference_float64=max(case.max_abs_difference for case in cases),
        max_abs_difference_float32=float(f32_diff),
        speed_input=(batch, c, h, wd),
        speed_weights=(o, c, k, k),
        forward_seconds=best["forward"],
        forward_seconds_torch=best["forward_torch"],
        backward_seconds=best["backward"],
        backward_seconds_torch=best["backward_torch"],
        loop_seconds_small=loop_seconds,
        vectorised_seconds_small=vec_seconds,
        loop_vs_vectorised_difference=loop_diff,
        demo_max_abs_difference=demo_diff,
        torch_threads=torch.get_num_threads(),
        demo_image=image,
        demo_filtered=filtered,
    )


def _case(rng, x_shape, w_shape, stride: int, padding: int) -> ShapeCase:
    """Random float64 input, weights, bias and output gradient; funml against torch."""
    import torch
    import torch.nn.functional as F

    from funml.scratch.conv import conv2d, conv2d_backward

    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    ours = conv2d(x, w, b, stride=stride, padding=padding)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))  # float64
    theirs = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    g = rng.standard_normal(ours.shape)
    theirs.backward(torch.tensor(g))
    grads = conv2d_backward(g, x, w, stride=stride, padding=padding)
    diffs = [np.abs(ours - theirs.detach().numpy()).max()]
    diffs += [
        np.abs(ours_g - t.grad.numpy()).max() for ours_g, t in zip(grads, (tx, tw, tb), strict=True)
    ]
    return ShapeCase(
        x_shape, w_shape, stride, padding, ours.shape, tuple(theirs.shape), float(max(diffs))
    )


def _loop_against_vectorised(rng) -> tuple[float, float, float]:
    """Best seconds of the six-loop and the vectorised conv2d on LOOP_SHAPES, and their gap."""
    from funml.scratch.conv import conv2d, conv2d_loop

    xs, ws = (rng.standard_normal(shape) for shape in LOOP_SHAPES)
    t_loop, t_vec = best_of(lambda: conv2d_loop(xs, ws), 3), best_of(lambda: conv2d(xs, ws))
    return t_loop, t_vec, float(np.abs(conv2d_loop(xs, ws) - conv2d(xs, ws)).max())


def _demo(image: np.ndarray) -> tuple[np.ndarray, float]:
    """``image`` (H, W) filtered by the KERNELS: (len(KERNELS), H, W), and torch's gap."""
    import torch
    import torch.nn.functional as F

    from funml.scratch.conv import conv2d

    w = np.array(list(KERNELS.values()), dtype=np.float64)[:, None]  # (4, 1, 3, 3)
    out = conv2d(image[None, None], w, padding=1)[0]  # (4, H, W)
    ref = F.conv2d(torch.from_numpy(image[None, None]), torch.from_numpy(w), padding=1)[0].numpy()
    return out, float(np.abs(out - ref).max())


def present_conv2d(m: Conv2dMeasurement) -> Result:
    """The report's view of ``m``."""
    n, c, h, wd = m.speed_input
    o, _, k, _ = m.speed_weights
    worst = m.max_abs_difference_float64
    return Result(
        metrics=_metrics(m),
        verdict=(
            f"funml's conv2d and its backward equal torch's to {worst:.0e} in float64 on "
            f"{len(m.cases)} shapes (strides, padding, non-square); on ({n}, {c}, {h}, {wd}) * "
            f"({o}, {c}, {k}, {k}) it is {m.forward_ratio:.1f}x torch's time forward and "
            f"{m.backward_ratio:.1f}x backward, and the six-loop reference is "
            f"{m.loop_seconds_small / m.vectorised_seconds_small:.0f}x slower than the "
            "vectorised one."
        ),
        answer=_answer(m),
        references=_references(m),
        figures={
            "A data set image filtered by four kernels with funml's conv2d": _demo_figure(
                m.demo_image, m.demo_filtered
            ),
            "Time per call: funml against torch (log scale)": _speed_figure(
                {
                    "forward": (m.forward_seconds, m.forward_seconds_torch),
                    "backward": (m.backward_seconds, m.backward_seconds_torch),
                }
            ),
        },
        tables=[_cases_table(m.cases)],
        notes=[
            f"Timings are the best of several calls on {m.torch_threads} torch thread(s); "
            "NumPy uses its BLAS threads."
        ],
    )


@experiment(
    "conv2d",
    summary="funml's NumPy conv2d and its backward against torch: values, shapes, speed.",
    question=(
        "Does a convolution layer written with NumPy compute exactly what torch.conv2d "
        "computes, forward and backward, and how much slower is it?"
    ),
)
def run_conv2d(settings, context) -> Result:
    ds = context.dataset()
    image = ds.test.images[0].astype(np.float64) / ds.pixel_max  # (H, W)
    return present_conv2d(
        measure_conv2d(image, batch=context.sizes.conv2d_batch, seed=settings.seed)
    )


def _answer(m: Conv2dMeasurement) -> str:
    """Does it compute what torch computes, and at what speed."""
    n, c, h, wd = m.speed_input
    o, _, k, _ = m.speed_weights
    return (
        f"Yes: on {len(m.cases)} shapes with strides, padding and non-square inputs and "
        "kernels, funml's conv2d and its backward (the gradients for input, weights and bias) "
        f"equal torch's to {m.max_abs_difference_float64:.0e} in float64, which is rounding. "
        f"In float32 the largest gap is {m.max_abs_difference_float32:.1e}, float32 rounding "
        f"on sums of {c * k * k} products. It takes {m.forward_ratio:.2g}x torch's time "
        f"forward and {m.backward_ratio:.2g}x backward on ({n}, {c}, {h}, {wd}) * "
        f"({o}, {c}, {k}, {k}), with one matrix product on an im2col copy of the windows. "
        "That vectorisation is what makes it usable: the course's six nested loops take "
        f"{m.loop_seconds_small / m.vectorised_seconds_small:.0f}x as long on a small input."
    )


def _metrics(m: Conv2dMeasurement) -> dict:
    metrics = asdict(m)
    del metrics["demo_image"], metrics["demo_filtered"]
    return {**metrics, "forward_ratio": m.forward_ratio, "backward_ratio": m.backward_ratio}


def _references(m: Conv2dMeasurement) -> list[Reference]:
    n = m.speed_input[0]
    loop_input, loop_weights = LOOP_SHAPES
    return [
        Reference(
            "largest difference, forward and all gradients (float64)",
            m.max_abs_difference_float64,
            0.0,
            "torch.nn.functional.conv2d and autograd, same inputs",
        ),
        Reference(
            "largest difference, forward (float32)",
            m.max_abs_difference_float32,
            0.0,
            "torch, same inputs",
        ),
        Reference(
            f"forward time, batch of {n}",
            m.forward_seconds,
            m.forward_seconds_torch,
            "torch.conv2d",
            "s",
        ),
        Reference(
            f"backward time, batch of {n}",
            m.backward_seconds,
            m.backward_seconds_torch,
            "torch autograd",
            "s",
        ),
        Reference(
            "forward time ratio funml / torch", m.forward_ratio, 10.0, "target: at most 10", "x"
        ),
        Reference(
            f"loop version time, {loop_input} * {loop_weights}",
            m.loop_seconds_small,
            m.vectorised_seconds_small,
            "the vectorised conv2d, same input",
            "s",
        ),
        Reference(
            "edge filters on a data set image",
            m.demo_max_abs_difference,
            0.0,
            "torch.conv2d (max abs difference)",
        ),
    ]


def _cases_table(cases: tuple[ShapeCase, ...]) -> Table:
    return Table(
        "Shapes and largest difference from torch (float64)",
        ("input", "weights", "stride", "padding", "funml output", "torch output", "max difference"),
        tuple(
            (
                str(c.input),
                str(c.weights),
                c.stride,
                c.padding,
                str(c.output),
                str(c.output_torch),
                f"{c.max_abs_difference:.1e}",
            )
            for c in cases
        ),
    )


def _demo_figure(image, out) -> Figure:
    fig = Figure(figsize=(10, 2.4))
    axes = fig.subplots(1, 1 + len(out))
    axes[0].imshow(image, cmap="gray")
    axes[0].set_title("input")
    for ax, name, o in zip(axes[1:], KERNELS, out, strict=True):
        ax.imshow(o, cmap="coolwarm", vmin=-np.abs(o).max(), vmax=np.abs(o).max())
        ax.set_title(name)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def _speed_figure(times) -> Figure:
    fig = Figure(figsize=(5, 3))
    ax = fig.subplots()
    pos = np.arange(len(times))
    ax.bar(pos - 0.2, [t[0] for t in times.values()], width=0.4, label="funml (NumPy)")
    ax.bar(pos + 0.2, [t[1] for t in times.values()], width=0.4, label="torch")
    ax.set(xticks=pos, xticklabels=list(times), yscale="log", ylabel="seconds per call")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
