"""One training loop for every course model: fast on a CPU, reproducible and resumable.

Read :func:`train` top to bottom: load the data once into tensors, build the model and the
optimizer, then for each epoch visit the training set in a seeded order, evaluate on the
*full* test split, record the epoch and write a checkpoint.

Three choices keep it one loop when it runs across processes:

- the order of an epoch is a function of ``(seed, epoch)`` only (``epoch_indices``), so each
  process can take its shard of the same permutation (``BatchLoader(rank=, world_size=)``,
  as ``DistributedSampler`` does), and a resumed run sees the batches it would have seen;
- losses and correct counts are carried as sums with their sample counts (``totals``, and
  ``evaluate_totals`` for the test split), which processes can add up with one all-reduce
  before dividing;
- whether this process writes checkpoints and metrics is the single flag ``writes``.

Across processes (:mod:`funml.nn.distributed`) the loop is this one with a
:class:`~funml.nn.distributed.World`: each process takes its shard of every epoch with a
``1/world.size`` share of the global batch, ``DistributedDataParallel`` averages the
gradients, the sums above are all-reduced, and only rank 0 writes.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from funml.data.dataset import ImageDataset, Split
from funml.data.loader import BatchLoader, Normalization, split_tensors
from funml.errors import FunmlError
from funml.files import write_json
from funml.nn.augment import augment_batch, shift_for
from funml.nn.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from funml.nn.distributed import World, check_batch_size, cores, describe
from funml.nn.evaluate import Evaluation, batch_totals, evaluate_totals
from funml.nn.models import build_model, count_parameters
from funml.nn.precision import autocast, check_precision
from funml.nn.settings import TrainSettings

CHECKPOINT_NAME = "model.pt"
METRICS_NAME = "metrics.json"


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch of training measured. Accuracies are fractions (0.9 for 90%)."""

    epoch: int  # 1-based
    lr: float  # the learning rate of the epoch
    train_loss: float  # mean over the epoch's training samples
    train_accuracy: float  # running, over the epoch (the weights change as it goes)
    test_loss: float  # over the full test split, after the epoch
    test_accuracy: float
    test_correct: int
    test_count: int
    examples_seen: int  # training samples seen since the start, cumulative
    curve: tuple[tuple[int, float], ...]  # (examples seen, mean loss of the last few batches)
    train_time: float  # seconds of the training pass
    epoch_time: float  # seconds with the evaluation and the checkpoint
    images_per_second: float  # of the training pass

    @property
    def test(self) -> Evaluation:
        return Evaluation(self.test_loss, self.test_accuracy, self.test_correct, self.test_count)

    def to_dict(self) -> dict:
        """Plain data, for metrics.json and the checkpoint's safe loader."""
        return dataclasses.asdict(self) | {"curve": [list(p) for p in self.curve]}

    @classmethod
    def from_dict(cls, d: dict) -> EpochRecord:
        """A record from :meth:`to_dict`'s output (also the dicts of older checkpoints)."""
        return cls(**{**d, "curve": tuple((int(x), float(y)) for x, y in d["curve"])})


@dataclass
class TrainResult:
    """What :func:`train` returns: the trained model and the record of its training."""

    model: nn.Module
    settings: TrainSettings
    history: list[EpochRecord]  # one record per epoch
    normalization: Normalization
    test: Evaluation  # on the full test split, after the last epoch
    out_dir: Path | None = None
    info: dict = field(default_factory=dict)  # data set, model size, environment

    def __repr__(self) -> str:
        s, t = self.settings, self.test
        return (
            f"<TrainResult: {s.model} on {s.dataset}, test accuracy {t.accuracy:.2%} "
            f"({t.correct:,}/{t.count:,}) after {len(self.history)} epochs>"
        )

    def _repr_html_(self) -> str:
        """In a notebook: the final accuracy, the curves inline and the settings."""
        from funml.display import escape, figure_html, key_value_html
        from funml.nn.figures import plot_history

        s, t = self.settings, self.test
        return (
            f"<h3>{escape(s.model)} on {escape(s.dataset)}</h3><p>Test accuracy "
            f"<strong>{t.accuracy:.2%}</strong> ({t.correct:,}/{t.count:,}), loss "
            f"{t.loss:.4f}, after {len(self.history)} epochs.</p>"
            + (figure_html(plot_history(self.history), "Loss and accuracy") if self.history else "")
            + "<details><summary>Settings</summary>"
            + key_value_html(dataclasses.asdict(s).items())
            + "</details>"
        )


class TrainingInterrupted(FunmlError):
    """Ctrl-C during training; the message says which checkpoint to resume from."""


def train(
    settings: TrainSettings,
    *,
    dataset: ImageDataset | None = None,
    out_dir: str | Path | None = None,
    resume: str | Path | dict | None = None,
    on_epoch_end: Callable[[EpochRecord], None] | None = None,
    world: World | None = None,
    model: nn.Module | None = None,
) -> TrainResult:
    """Train ``settings.model`` on ``settings.dataset`` and evaluate it after every epoch.

    Parameters
    ----------
    settings : TrainSettings
        Resolved settings (no open field): ``settings.resolved()`` for a new run, the
        checkpoint's (:func:`settings_from_checkpoint`, or a :class:`~funml.nn.job.TrainJob`'s)
        to resume one.
    dataset : ImageDataset, optional
        Use this data instead of ``load_dataset(settings.dataset)``.
    out_dir : path, optional
        Write ``model.pt`` (a checkpoint, after every epoch) and ``metrics.json`` here.
        None writes nothing. Across processes only rank 0 writes.
    resume : path or dict, optional
        A checkpoint (or one already read by :func:`load_checkpoint`) to continue from: its
        weights, optimizer, scheduler, random state and history. Its settings are not read.
    on_epoch_end : callable, optional
        Called with each epoch's :class:`EpochRecord` after its checkpoint is written.
    world : World, optional
        This process's place in a job of several (:func:`funml.nn.distributed.process_group`);
        None trains alone. Every process gets the same arguments; the history, the test
        evaluation and the result are those of the whole job.
    model : nn.Module, optional
        Train this network (already initialised: seed before building it) instead of
        ``build_model(settings.model)``; ``settings.model`` then only names it in the
        records. Its checkpoints hold its weights, but ``funml train --resume`` builds models
        by name and cannot resume them: resume with ``train(..., model=, resume=)``.
    """
    if settings.open_fields:
        raise ValueError(
            "train() takes resolved settings, but these are not decided: "
            f"{', '.join(settings.open_fields)}; pass settings.resolved() (the model's recipe)."
        )
    s = settings
    world = world if world is not None else World()
    start = load_checkpoint(resume) if isinstance(resume, str | Path) else resume
    check_batch_size(s.batch_size, world.size)
    device = world.device if world.device is not None else _device(s.device)
    check_precision(s.precision, device)
    ds = dataset if dataset is not None else _load(s.dataset)
    _check_data(ds, s)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(threads_for(s, ds.image_shape, local_processes=world.local_size))
    try:
        return _train(s, start, ds, out_dir, on_epoch_end, device, world, model)
    finally:
        torch.set_num_threads(threads_before)


def _train(s, start, ds, out_dir, on_epoch_end, device, world, given=None) -> TrainResult:
    _seed_everything(s.seed)
    data = _prepare_data(s, ds, start, device, world)
    model, optimizer, scheduler, history = _prepare_model(
        s, ds, start, device, given, len(data.train)
    )
    net = world.wrap(model)  # averages the gradients over processes; `model` stays plain
    precision = autocast(s.precision, device)  # bf16: the training passes under autocast

    def test_totals() -> torch.Tensor:  # over the full test split: every shard, added up
        # In float32 whatever the training precision: the number funml evaluate gives.
        return world.all_reduce_sum(evaluate_totals(model, data.test))

    out_dir = Path(out_dir) if out_dir is not None else None
    # The one place that decides whether this process writes.
    writes = out_dir is not None and world.leader
    checkpoint_path = out_dir / CHECKPOINT_NAME if out_dir is not None else None
    speaks = not s.quiet and world.leader
    show_bar = speaks and (sys.stdout.isatty() or "ipykernel" in sys.modules)  # or a notebook

    epoch = saved = len(history)  # the epoch under way, and the last one checkpointed
    try:
        for epoch in range(len(history), s.epochs):
            t0 = time.perf_counter()
            lr = optimizer.param_groups[0]["lr"]
            before = history[-1].examples_seen if history else 0
            data.train.set_epoch(epoch)
            model.train()
            with _progress(data.epoch_size, f"epoch {epoch + 1}/{s.epochs}", show_bar) as bar:
                trained, curve = _train_pass(
                    s, net, optimizer, scheduler, data, world, precision, bar, before
                )
            train_time = time.perf_counter() - t0
            if scheduler is not None and s.schedule == "step":
                scheduler.step()
            tested = Evaluation.from_totals(test_totals())
            record = _record(epoch, lr, trained, tested, before, curve, train_time, t0)
            history.append(record)
            if writes:
                save_checkpoint(
                    checkpoint_path,
                    _checkpoint(s, ds, data.norm, model, optimizer, scheduler, history),
                )
                saved = epoch + 1
            if speaks:
                print(_epoch_line(record, s.epochs), flush=True)
            if on_epoch_end is not None:
                on_epoch_end(record)
    except KeyboardInterrupt:  # also SIGTERM in a worker: the launcher stopping it
        if writes and saved:  # metrics.json for the epochs that finished, beside their checkpoint
            info = _run_info(s, ds, model, device, data.n_train, world)
            done = history[:saved]
            kept = TrainResult(model, s, done, data.norm, done[-1].test, out_dir, info)
            write_json(out_dir / METRICS_NAME, metrics(kept))
        message = _interrupted_message(epoch, saved, checkpoint_path, leader=world.leader)
        raise TrainingInterrupted(message) from None
    except RuntimeError as e:
        if not world.joined:
            raise
        # Most likely a collective failed because another process died or cannot be reached.
        message = _interrupted_message(epoch, saved, checkpoint_path, describe(e), world.leader)
        raise TrainingInterrupted(message) from e

    final = _final_evaluation(history, test_totals)
    info = _run_info(s, ds, model, device, data.n_train, world)
    result = TrainResult(model, s, history, data.norm, final, out_dir, info)
    if writes:
        write_json(out_dir / METRICS_NAME, metrics(result))
    return result


@dataclass(frozen=True)
class _Data:
    """A run's data, converted once into tensors on its device; a batch is one index."""

    norm: Normalization  # how pixels were mapped
    train: BatchLoader  # this process's shard of every epoch, shuffled
    test: BatchLoader  # this process's share of the test split, in order
    n_train: int  # training images, all processes
    epoch_size: int  # samples per epoch, all processes, with the shards' padding
    shift: int  # pixels of random shift of each training batch; 0: none
    flip: bool  # mirror half of each training batch
    fill: float  # a black pixel, normalised: the border a shift uncovers


def _prepare_data(s, ds, start, device, world) -> _Data:
    train_split = _first(ds.train, s.n_train)
    if start is not None:  # the statistics the model was trained with
        norm = Normalization(ds.pixel_max, **_mean_std(start["data"]["normalization"]))
    elif s.normalize:
        norm = Normalization.fit(train_split, ds.pixel_max)
    else:
        norm = Normalization(ds.pixel_max)
    x_train, y_train = split_tensors(train_split, norm, device)  # (N, 1, H, W), (N,)
    x_test, y_test = split_tensors(ds.test, norm, device)
    # This process's shard of every epoch and its share of the global batch. The training
    # shards are padded to equal length (as DistributedSampler does), so that every step
    # has the same number of samples on every process; the test shards are not, so that
    # every test sample counts exactly once.
    shard = {"rank": world.rank, "world_size": world.size}
    train = BatchLoader(
        x_train, y_train, s.batch_size // world.size, shuffle=True, seed=s.seed, **shard
    )
    test = BatchLoader(x_test, y_test, s.eval_batch_size, shuffle=False, pad=False, **shard)
    return _Data(
        norm=norm,
        train=train,
        test=test,
        n_train=len(y_train),
        epoch_size=-(-len(y_train) // world.size) * world.size,
        shift=shift_for(ds.image_shape) if "shift" in s.augment else 0,
        flip="flip" in s.augment,
        fill=(0.0 - norm.mean) / norm.std,
    )


def _prepare_model(s, ds, start, device, given, steps_per_epoch):
    """The model, its optimizer, schedule and history: new, or as ``start`` left them."""
    if given is None:
        given = build_model(s.model, ds.image_shape, ds.n_classes, dataset=ds.name)
    model = given.to(device)
    # channels_last measured 1.2-2x faster training for cnn on this CPU.
    if _use_channels_last(s, model, device):
        model = model.to(memory_format=torch.channels_last)
    optimizer = _optimizer(s, model, device)
    scheduler = _scheduler(s, optimizer, steps_per_epoch)
    history: list[EpochRecord] = []
    if start is not None:
        _check_fits(start, ds, s)
        model.load_state_dict(start["model"])
        optimizer.load_state_dict(start["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(start["scheduler"])
        history = [EpochRecord.from_dict(r) for r in start["history"]]
        set_rng_state(start["rng"])
    return model, optimizer, scheduler, history


def _train_pass(s, net, optimizer, scheduler, data, world, precision, bar, before):
    """One epoch of optimizer steps over this process's shard. Returns the epoch's
    training evaluation over all processes, and its curve: (examples seen since the start,
    mean loss of the last few batches) about 20 times per epoch."""
    device = data.train.y.device
    totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, correct, count
    window = torch.zeros(3, dtype=torch.float64, device=device)
    n_batches = len(data.train)
    log_every = max(1, n_batches // 20)
    seen = 0  # samples of this epoch so far, all processes
    curve = []
    for step, (xb, yb) in enumerate(data.train):
        if data.shift or data.flip:
            xb = augment_batch(xb, data.shift, data.flip, data.fill)
        with precision:
            logits = net(xb)  # (B, n_classes)
            loss = F.cross_entropy(logits, yb, label_smoothing=s.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None and s.schedule != "step":
            scheduler.step()  # cosine and onecycle change the rate every batch

        batch = batch_totals(logits, yb, loss)
        totals += batch
        window += batch
        bar.update(len(yb) * world.size)
        if (step + 1) % log_every == 0 or step + 1 == n_batches:
            window = world.all_reduce_sum(window)
            seen += int(window[2])
            mean_loss = float(window[0] / window[2])
            curve.append((before + seen, mean_loss))
            window.zero_()
            bar.set_postfix(loss=f"{mean_loss:.4f}")
    return Evaluation.from_totals(world.all_reduce_sum(totals).cpu()), tuple(curve)


def _record(epoch, lr, trained, tested, before, curve, train_time, t0) -> EpochRecord:
    return EpochRecord(
        epoch=epoch + 1,
        lr=lr,
        train_loss=trained.loss,
        train_accuracy=trained.accuracy,
        test_loss=tested.loss,
        test_accuracy=tested.accuracy,
        test_correct=tested.correct,
        test_count=tested.count,
        examples_seen=before + trained.count,
        curve=curve,
        train_time=train_time,
        epoch_time=time.perf_counter() - t0,
        images_per_second=trained.count / train_time,
    )


def metrics(result: TrainResult) -> dict:
    """The JSON record of a run: settings, history, final test accuracy and where it ran."""
    return {
        "test_accuracy": result.test.accuracy,
        "test_loss": result.test.loss,
        "test_count": result.test.count,
        "settings": dataclasses.asdict(result.settings),
        "normalization": result.normalization.to_dict(),
        **result.info,
        "history": [r.to_dict() for r in result.history],
    }


def check(settings: TrainSettings, dataset: ImageDataset, processes: int = 1) -> None:
    """Raise FunmlError now if resolved ``settings`` cannot train on ``dataset`` in
    ``processes`` processes (before any output is made)."""
    check_batch_size(settings.batch_size, processes)
    check_precision(settings.precision, _device(settings.device))
    _check_data(dataset, settings)
    build_model(settings.model, dataset.image_shape, dataset.n_classes, dataset=dataset.name)


def settings_from_checkpoint(checkpoint: str | Path | dict) -> TrainSettings:
    """The settings a checkpoint (a path, or one read) was trained with, to resume it."""
    start = load_checkpoint(checkpoint) if isinstance(checkpoint, str | Path) else checkpoint
    try:
        return TrainSettings.from_saved(start["settings"])
    except TypeError as e:
        raise FunmlError(
            f"Checkpoint {_label(checkpoint)} was written with settings this funml does not "
            f"know ({e}); resume it with the funml version that wrote it."
        ) from e


# --- helpers, in the order train() uses them ---------------------------------------------


def _label(resume) -> str:
    return f"'{resume}'" if isinstance(resume, str | Path) else "the checkpoint"


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise FunmlError(f"Device '{name}' is not valid; use auto, cpu or cuda.") from e
    if device.type not in ("cpu", "cuda"):  # meta holds no data; mps is macOS's
        raise FunmlError(f"Device '{name}' cannot train here; use auto, cpu or cuda.")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise FunmlError(f"Device '{name}' was asked for, but CUDA is not available; use cpu.")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise FunmlError(
            f"Device '{name}' does not exist: this machine has {torch.cuda.device_count()} GPU(s)."
        )
    return device


def _check_data(ds: ImageDataset, s: TrainSettings) -> None:
    """Refuse a data set with an empty split, or one the augmentation does not suit."""
    from funml.nn.augment import check_augment

    for part, split in (("training", ds.train), ("test", ds.test)):
        if len(split) == 0:
            raise FunmlError(
                f"Data set '{ds.name}' has an empty {part} split; training needs images in "
                "both its training and test splits."
            )
    check_augment(s.augment, ds.name)


def threads_for(
    s: TrainSettings, image_shape: tuple[int, int] = (28, 28), *, local_processes: int = 1
) -> int:
    """The torch thread count a run uses: ``s.threads``, or the measured default.

    ``local_processes`` training together on this machine share its cores.
    """
    # Measured here (benchmarks/train.py --only defaults): only cnn's convolutions on 28x28
    # images (7.5 MFLOP per image) are big enough to share between threads, about 1.4-1.8x
    # faster on two cores. cnn-small (1.0 MFLOP), digits-cnn and the MLPs' batch-64 matmuls
    # ran as fast or faster on one thread, and 2-3x faster when other processes kept the cores
    # busy. The count changes float rounding, so it is fixed by the settings, never tuned at
    # run time: the same settings give the same history.
    if s.threads is not None:
        return s.threads
    big_convolutions = s.model == "cnn" and min(image_shape) >= 28
    if not big_convolutions:
        return 1
    if local_processes > 1:  # torchrun sets OMP_NUM_THREADS=1 in workers: count the cores
        return max(1, cores() // local_processes)
    return torch.get_num_threads()


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds any legacy-API user the model may call
    torch.manual_seed(seed)


def _load(name: str) -> ImageDataset:
    from funml.data import load_dataset

    return load_dataset(name)


def _first(split: Split, n: int | None) -> Split:
    if n is None or n >= len(split):
        return split
    return Split(split.images[:n], split.labels[:n])


def _mean_std(norm: dict) -> dict:
    return {"mean": norm["mean"], "std": norm["std"]}


def _use_channels_last(s: TrainSettings, model: nn.Module, device: torch.device) -> bool:
    if s.channels_last is not None:
        return s.channels_last
    has_conv = any(isinstance(m, nn.Conv2d) for m in model.modules())
    return has_conv and device.type == "cpu"


def _optimizer(s: TrainSettings, model: nn.Module, device: torch.device) -> torch.optim.Optimizer:
    # The fused kernels update every weight in one pass instead of several: the same algorithm,
    # measured 2x faster for mlp's 814k weights with Adam on this CPU (1.2x with SGD).
    fused = device.type in ("cpu", "cuda")
    params, decay = model.parameters(), s.weight_decay
    if s.optimizer == "adam":
        return torch.optim.Adam(params, lr=s.lr, weight_decay=decay, fused=fused)
    if s.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=s.lr, weight_decay=decay, fused=fused)
    return torch.optim.SGD(params, lr=s.lr, momentum=s.momentum, weight_decay=decay, fused=fused)


def _scheduler(s: TrainSettings, optimizer, steps_per_epoch: int):
    """The learning-rate schedule: step decay per epoch, or cosine/onecycle per batch."""
    sched = torch.optim.lr_scheduler
    if s.schedule == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=s.epochs * steps_per_epoch)
    if s.schedule == "onecycle":  # warm up over 30% of the steps, then anneal (cosine)
        cycle = s.optimizer != "sgd" or s.momentum > 0  # cycles Adam's beta1 or the momentum
        return sched.OneCycleLR(
            optimizer, s.lr, total_steps=s.epochs * steps_per_epoch, cycle_momentum=cycle
        )
    return sched.StepLR(optimizer, s.lr_step, s.gamma) if s.gamma else None


def _check_fits(start: dict, ds: ImageDataset, s: TrainSettings) -> None:
    shape = tuple(start["data"]["image_shape"])
    if shape != ds.image_shape or len(start["data"]["classes"]) != ds.n_classes:
        raise FunmlError(
            f"The checkpoint was trained on {shape[0]}x{shape[1]} images, not on data set "
            f"'{ds.name}'; resume it on '{start['settings']['dataset']}'."
        )
    planned = start["settings"]["epochs"]
    if s.schedule != "step" and s.epochs != planned:
        raise FunmlError(
            f"The {s.schedule} schedule of this run was planned over {planned} epochs, so "
            f"it cannot train to {s.epochs}; resume without --epochs."
        )


def _checkpoint(s, ds, norm, model, optimizer, scheduler, history) -> dict:
    return {
        "epoch": len(history),
        "settings": dataclasses.asdict(s),
        "history": [r.to_dict() for r in history],
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": rng_state(),
        "data": {
            "name": ds.name,
            "image_shape": list(ds.image_shape),
            "classes": list(ds.classes),
            "normalization": norm.to_dict(),
        },
    }


def _progress(total: int, desc: str, show: bool) -> tqdm:
    # Closed by its with-block, also on Ctrl-C, so a message never lands on a half-drawn bar.
    return tqdm(
        total=total,
        desc=desc,
        unit="img",
        unit_scale=True,
        leave=False,
        disable=not show,
        file=sys.stdout,
    )


def _epoch_line(r: EpochRecord, epochs: int) -> str:
    return (
        f"epoch {r.epoch:>3}/{epochs}  lr {r.lr:.3g}  "
        f"train loss {r.train_loss:.4f} acc {r.train_accuracy:.2%}  "
        f"test loss {r.test_loss:.4f} acc {r.test_accuracy:.2%}  "
        f"{r.epoch_time:.1f} s  {r.images_per_second:,.0f} img/s"
    )


def _interrupted_message(
    epoch: int,
    saved: int,
    checkpoint_path: Path | None,
    reason: str | None = None,
    leader: bool = True,
) -> str:
    when = f"after epoch {saved}" if saved > epoch else f"during epoch {epoch + 1}"
    during = f"Training was interrupted {when}"
    if reason is not None:
        during = f"Training stopped {when} ({reason})"
    if not leader:
        return f"{during}; rank 0 holds the checkpoints."
    if checkpoint_path is None:
        return f"{during}; nothing was saved because no output folder was given."
    if saved == 0:
        return f"{during}, before any epoch finished, so no checkpoint was written; start again."
    return (
        f"{during}; the checkpoint of epoch {saved} is in '{checkpoint_path}', "
        f"so resume with: funml train --resume {checkpoint_path}"
    )


def _final_evaluation(history, test_totals) -> Evaluation:
    if history:  # the last epoch's evaluation is of the final weights
        return history[-1].test
    return Evaluation.from_totals(test_totals())


def _run_info(s, ds, model, device, n_train, world) -> dict:
    return {
        "model": {"name": s.model, "parameters": count_parameters(model)},
        "dataset": {
            "name": ds.name,
            "n_train": n_train,
            "n_test": len(ds.test),
            "image_shape": list(ds.image_shape),
            "source": ds.source,
        },
        "environment": {
            "torch": torch.__version__,
            "device": str(device),
            "threads": torch.get_num_threads(),
            "channels_last": _use_channels_last(s, model, device),
            "precision": s.precision,
            "processes": world.size,
            "backend": world.backend,
        },
    }
