"""A model's layers, output shapes, parameters and FLOPs, as torchsummary prints them."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class LayerRow:
    name: str  # the module's name in the model, e.g. "conv1"
    kind: str  # its class, e.g. "Conv2d"
    output_shape: tuple[int, ...]  # with -1 for the batch
    params: int  # parameters this layer owns
    flops: int  # forward FLOPs per image (2 per multiply-add); 0 for layers not counted


@dataclass(frozen=True)
class ModelSummary:
    """The table :func:`summary` prints; ``str(summary)`` is the table."""

    rows: tuple[LayerRow, ...]
    input_shape: tuple[int, ...]
    total_params: int
    trainable_params: int
    flops: int  # forward FLOPs per image, convolutions and linear layers

    def __str__(self) -> str:
        width = 72
        lines = [
            "-" * width,
            f"{'Layer (type)':<26}{'Output Shape':>20}{'Param #':>12}{'FLOPs':>14}",
        ]
        lines.append("=" * width)
        for r in self.rows:
            shape = "[" + ", ".join(str(d) for d in r.output_shape) + "]"
            lines.append(f"{f'{r.name} ({r.kind})':<26}{shape:>20}{r.params:>12,}{r.flops:>14,}")
        lines += [
            "=" * width,
            f"Input shape: {list(self.input_shape)}",
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
            f"Forward FLOPs per image: {self.flops:,} (convolutions and linear layers)",
            "-" * width,
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        """In a notebook: the table as HTML, with the totals under it."""
        from funml.display import escape, table_html

        rows = [
            (f"{r.name} ({r.kind})", str(list(r.output_shape)), f"{r.params:,}", f"{r.flops:,}")
            for r in self.rows
        ]
        table = table_html(("Layer (type)", "Output shape", "Param #", "FLOPs"), rows, (2, 3))
        return (
            f"{table}<p>Input shape {escape(list(self.input_shape))}; "
            f"{self.total_params:,} parameters ({self.trainable_params:,} trainable); "
            f"{self.flops:,} forward FLOPs per image (convolutions and linear layers).</p>"
        )


def summary(model: nn.Module, input_shape: tuple[int, ...]) -> ModelSummary:
    """One row per layer of ``model`` run on one image of ``input_shape``, and the totals.

    Parameters
    ----------
    model : nn.Module
    input_shape : tuple
        (C, H, W) of one image, or (H, W) for a single channel.

    Returns
    -------
    ModelSummary, whose ``total_params`` counts every parameter of ``model`` and whose
    ``str()`` is the table torchsummary prints (``print(summary(model, shape))``).
    """
    if len(input_shape) == 2:
        input_shape = (1, *input_shape)
    rows: list[LayerRow] = []

    def record(module: nn.Module, inputs, output) -> None:
        rows.append(
            LayerRow(
                name=names[module],
                kind=type(module).__name__,
                output_shape=(-1, *output.shape[1:]),
                params=sum(p.numel() for p in module.parameters(recurse=False)),
                flops=_flops(module, output),
            )
        )

    names = {m: name for name, m in model.named_modules() if not list(m.children())}
    hooks = [m.register_forward_hook(record) for m in names]
    was_training = model.training
    device = next(model.parameters()).device
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return ModelSummary(
        rows=tuple(rows),
        input_shape=tuple(input_shape),
        total_params=sum(p.numel() for p in model.parameters()),
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        flops=sum(r.flops for r in rows),
    )


def _flops(module: nn.Module, output: torch.Tensor) -> int:
    # 2 FLOPs per multiply-add; biases, activations and pooling are left out (under 1%).
    if isinstance(module, nn.Conv2d):
        k = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        return 2 * output[0].numel() * k
    if isinstance(module, nn.Linear):
        return 2 * module.in_features * module.out_features
    return 0
