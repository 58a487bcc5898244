"""Training across processes and machines with PyTorch's own engine: torchrun and DDP.

The training loop (:mod:`funml.nn.train`) is one loop whether it runs in one process or in
many; what differs is a :class:`World`, which this module makes:

- :func:`process_group` sets up ``torch.distributed`` inside a worker that ``torchrun`` (or
  :func:`launch`) started, from the variables it sets (``RANK``, ``WORLD_SIZE``,
  ``LOCAL_RANK``, ``MASTER_ADDR``...), and yields the process's :class:`World`. The backend is
  gloo on CPUs and NCCL when every rank has a CUDA device.
- :class:`World` is what the loop asks of the others: which shard is mine (``rank``,
  ``size``), wrap the model in ``DistributedDataParallel``, add up sums over all processes,
  and hand everyone what the first process read from disk. ``World()`` is one process alone,
  for which each of these does nothing.
- :func:`launch` starts the workers of one machine through torch's elastic launcher, the code
  behind the ``torchrun`` command (:data:`LaunchSettings` are its options), and turns a dead
  worker into one sentence.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import shlex
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from funml.errors import FunmlError

# The variables torchrun sets in every worker; all of them present means "I am a worker".
WORKER_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
# torchrun's usual port when several machines must agree on one in advance.
DEFAULT_PORT = 29500
# How long a collective waits for a peer that is alive but silent. A peer that died is noticed
# at once (its sockets close) and the launcher stops the others.
TIMEOUT = datetime.timedelta(minutes=10)
# The launcher's pid, which its workers watch (set by launch(); under torchrun, the parent).
LAUNCHER_PID_VARIABLE = "FUNML_LAUNCHER_PID"
# Seconds a worker whose launcher died has to stop cleanly before it exits regardless.
LAUNCHER_GRACE = 30.0


def under_torchrun() -> bool:
    """True in a worker process started by torchrun or :func:`launch`."""
    return all(name in os.environ for name in WORKER_VARIABLES)


@dataclass(frozen=True)
class World:
    """This process's place among the processes training together.

    ``World()`` is a single process: every method below is then the identity.
    """

    rank: int = 0  # 0..size-1; rank 0 writes the files
    size: int = 1  # processes in the job (all machines)
    local_rank: int = 0  # 0..local_size-1 on this machine; picks the GPU
    local_size: int = 1  # processes on this machine; they share its cores
    device: torch.device | None = None  # None: the settings choose (single process)
    restart: int = 0  # how many times the launcher restarted the workers
    max_restarts: int = 0
    group: Any = field(default=None, repr=False)  # the process group; None: the default one
    joined: bool = False  # made by process_group(): the methods below talk to the others

    @property
    def leader(self) -> bool:
        """Rank 0: the one process that reads checkpoints to share and writes files."""
        return self.rank == 0

    @property
    def backend(self) -> str | None:
        return dist.get_backend(self.group) if self.joined else None

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` in ``DistributedDataParallel``, which averages gradients over processes."""
        if not self.joined:
            return model
        ids = [self.device] if self.device is not None and self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids, process_group=self.group)

    def all_reduce_sum(self, totals: torch.Tensor) -> torch.Tensor:
        """The element-wise sum of ``totals`` over all processes, on ``totals``' device."""
        if not self.joined:
            return totals
        t = totals.to(self.device)  # NCCL reduces only on the GPU
        dist.all_reduce(t, op=dist.ReduceOp.SUM, group=self.group)
        return t.to(totals.device)

    def share(self, make: Callable[[], Any]) -> Any:
        """Run ``make()`` on rank 0 and return its result (or raise its FunmlError) everywhere.

        The result travels in PyTorch's file format and is read with ``weights_only=True``,
        so it may hold tensors, dicts, lists, strings and numbers: a checkpoint, for example.
        The other machines need not have the file rank 0 read.
        """
        if not self.joined:
            return make()
        message = None
        if self.leader:
            try:
                value = make()
            except FunmlError as e:  # every rank raises it, so none waits for the others
                value, message = None, str(e)
            buffer = io.BytesIO()
            torch.save({"value": value, "error": message}, buffer)
            data = torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8)
            size = torch.tensor([len(data)], dtype=torch.int64)
        else:
            size = torch.zeros(1, dtype=torch.int64)
        size = self._broadcast(size)
        if not self.leader:
            data = torch.empty(int(size), dtype=torch.uint8)
        data = self._broadcast(data)
        shared = torch.load(io.BytesIO(data.numpy().tobytes()), weights_only=True)
        if shared["error"] is not None:
            raise FunmlError(shared["error"])
        return shared["value"]

    def _broadcast(self, t: torch.Tensor) -> torch.Tensor:
        on_device = t.to(self.device)
        dist.broadcast(on_device, src=0, group=self.group)
        return on_device.cpu()


def check_batch_size(batch_size: int, processes: int) -> None:
    """Refuse a global batch that the processes cannot split into equal per-process batches."""
    # Equal shares are what make DDP's average of the per-process mean gradients equal the
    # mean gradient of the global batch (see docs/scaling.md), so nothing else is accepted.
    if batch_size % processes:
        raise FunmlError(
            f"The batch size {batch_size} is the global batch and does not split evenly over "
            f"{processes} processes; choose a multiple of {processes}."
        )


@contextlib.contextmanager
def process_group(device: str = "auto") -> Iterator[World]:
    """Join the job torchrun started, yield this process's World, and leave it at the end.

    ``device`` is the run's device setting: ``"cpu"`` trains on CPUs with gloo; ``"auto"``
    trains on ``cuda:LOCAL_RANK`` with NCCL when every rank has that GPU, else on CPUs;
    ``"cuda"`` requires the GPU on every rank. SIGTERM, which the launcher sends to stop the
    workers, is handled as Ctrl-C, so files being written are cleaned up and the loop says
    which checkpoint to resume from.
    """
    env = os.environ
    rank, size = int(env["RANK"]), int(env["WORLD_SIZE"])
    local_rank = int(env["LOCAL_RANK"])
    local_size = int(env.get("LOCAL_WORLD_SIZE", size))
    restart = int(env.get("TORCHELASTIC_RESTART_COUNT", 0))
    has_gpu = _has_gpu(device, local_rank)
    dist.init_process_group("gloo", store=_store(rank, size, restart), rank=rank, world_size=size)
    sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)
    launcher_alive = _watch_launcher()
    try:
        every = torch.tensor([int(has_gpu)])
        dist.all_reduce(every, op=dist.ReduceOp.MIN)  # on the gloo group every rank has
        if every.item():
            torch.cuda.set_device(local_rank)
            group, dev = dist.new_group(backend="nccl"), torch.device("cuda", local_rank)
        elif device.startswith("cuda"):
            raise FunmlError(
                f"--device {device} needs a GPU on every process, but some have none; "
                "use --device auto or cpu."
            )
        else:
            group, dev = None, torch.device("cpu")
        yield World(
            rank=rank,
            size=size,
            local_rank=local_rank,
            local_size=local_size,
            device=dev,
            restart=restart,
            max_restarts=int(env.get("TORCHELASTIC_MAX_RESTARTS", 0)),
            group=group,
            joined=True,
        )
    finally:
        launcher_alive.set()  # ends the watch
        signal.signal(signal.SIGTERM, sigterm)
        dist.destroy_process_group()


def _watch_launcher(poll: float = 0.5) -> threading.Event:
    """Stop this worker when the process that launched it dies, even by SIGKILL.

    A thread checks the parent pid every ``poll`` seconds; when the parent is gone (the
    worker was handed to init), it sends this process SIGTERM, which the training loop
    handles as Ctrl-C, and exits for good after :data:`LAUNCHER_GRACE` seconds if that did
    not end it. (A thread works on every OS, unlike Linux's ``PR_SET_PDEATHSIG``, which
    would also fire when the launcher's spawning *thread* ends.) Returns the event that
    ends the watch.
    """
    expected = os.environ.get(LAUNCHER_PID_VARIABLE)
    parent = int(expected) if expected else os.getppid()
    done = threading.Event()

    def watch() -> None:
        while not done.wait(poll):
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                if not done.wait(LAUNCHER_GRACE):
                    os._exit(128 + signal.SIGTERM)
                return

    threading.Thread(target=watch, name="funml-launcher-watch", daemon=True).start()
    return done


def _has_gpu(device: str, local_rank: int) -> bool:
    if device == "cpu":
        return False
    if device not in ("auto", "cuda"):
        raise FunmlError(
            f"--device {device} names one device, but each process takes cuda:LOCAL_RANK; "
            "use --device cuda, auto or cpu."
        )
    return torch.cuda.is_available() and local_rank < torch.cuda.device_count()


def _store(rank: int, size: int, restart: int) -> dist.Store | None:
    """The key-value store the processes meet in; None lets torch make its own (env://)."""
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return None
    # Under torchrun the launcher hosts the store and keeps it across restarts, and with
    # torch 2.13 a restarted group found the dead group's keys there and hung (static
    # rendezvous) or connected to dead addresses (c10d; pytorch issue 135712). Keys of
    # their own for every attempt make restarts work.
    store = dist.TCPStore(
        os.environ["MASTER_ADDR"],
        int(os.environ["MASTER_PORT"]),
        size,
        is_master=False,
        timeout=TIMEOUT,
    )
    return dist.PrefixStore(f"funml/attempt-{restart}", store)


def describe(error: BaseException) -> str:
    """A short reason from a collective's error, e.g. "Connection reset by peer"."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    text = text.split("] ", 1)[-1]  # gloo starts with "[path/to/file.cc:537] "
    return text.split(". ")[0][:160]


# --- launching --------------------------------------------------------------------------


@dataclass
class LaunchSettings:
    """How many workers to start and where they meet: torchrun's options, funml's defaults."""

    nproc: int = 1  # worker processes on this machine (torchrun --nproc-per-node)
    nnodes: int = 1  # machines in the job
    node_rank: int = 0  # this machine's number, 0..nnodes-1; node 0 hosts the meeting point
    master_addr: str | None = None  # node 0's address; None: 127.0.0.1 (one machine only)
    master_port: int | None = None  # None: a free port on one machine, 29500 on several
    max_restarts: int = 0  # restart all workers this many times after a failure

    @property
    def world_size(self) -> int:
        return self.nproc * self.nnodes

    @property
    def needed(self) -> bool:
        """Whether the run needs the launcher (more than one process, or restarts)."""
        return self.world_size > 1 or self.max_restarts > 0

    def validate(self, *, gpus: bool = False) -> None:
        """Raise FunmlError for a count, rank, address or port that cannot work."""
        limit, what = (torch.cuda.device_count(), "GPUs") if gpus else (cores(), "CPU cores")
        if self.nproc < 1:
            raise FunmlError(f"--nproc must be at least 1, got {self.nproc}.")
        if self.nproc > limit:
            raise FunmlError(
                f"--nproc {self.nproc} is more than the {limit} {what} of this machine; "
                f"use at most {limit}, one process per {what[:-1]}."
            )
        if self.nnodes < 1:
            raise FunmlError(f"--nnodes must be at least 1, got {self.nnodes}.")
        if not 0 <= self.node_rank < self.nnodes:
            raise FunmlError(
                f"--node-rank must be in 0..{self.nnodes - 1} for {self.nnodes} nodes, "
                f"got {self.node_rank}."
            )
        if self.max_restarts < 0:
            raise FunmlError(f"--max-restarts must be 0 or more, got {self.max_restarts}.")
        if self.master_port is not None and not 1 <= self.master_port <= 65535:
            raise FunmlError(f"--master-port must be in 1..65535, got {self.master_port}.")
        if self.nnodes > 1 and self.master_addr is None:
            raise FunmlError(
                "Training on several nodes needs --master-addr, the address of node 0 that "
                "every node can reach."
            )

    def resolved(self) -> LaunchSettings:
        """These settings with the address and port filled in, the port checked free on node 0.

        On one machine without ``master_port`` a free port is chosen; otherwise the port must
        be free here when this is node 0, which hosts it.
        """
        addr = self.master_addr or "127.0.0.1"
        port = self.master_port
        if port is None:
            port = _free_port(addr) if self.nnodes == 1 else DEFAULT_PORT
        if self.node_rank == 0:
            _check_port_free(port)
        return LaunchSettings(
            self.nproc, self.nnodes, self.node_rank, addr, port, self.max_restarts
        )

    def torchrun_args(self) -> list[str]:
        """torchrun's options for these settings (call on :meth:`resolved` settings)."""
        return [
            f"--nnodes={self.nnodes}",
            f"--node-rank={self.node_rank}",
            f"--nproc-per-node={self.nproc}",
            f"--master-addr={self.master_addr}",
            f"--master-port={self.master_port}",
            f"--max-restarts={self.max_restarts}",
        ]


def torchrun_command(settings: LaunchSettings, command: list[str]) -> str:
    """The shell command that runs ``command`` (e.g. ``["-m", "funml", "train", ...]``)."""
    return shlex.join(["torchrun", *settings.torchrun_args(), *command])


class WorkersFailed(FunmlError):
    """A worker process failed (and no restart was left), or the launcher was stopped."""


def launch(settings: LaunchSettings, command: list[str]) -> None:
    """Run ``command`` in ``settings.nproc`` workers through torch's elastic launcher.

    This is what ``torchrun`` does with the same options (see :func:`torchrun_command`): the
    launcher starts the workers, restarts them all up to ``max_restarts`` times if one fails,
    and otherwise stops the others (SIGTERM, then SIGKILL after 30 s) and returns.

    Raises :class:`WorkersFailed` naming the first worker that failed and how.
    """
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    # The workers inherit this process's environment, changed for them only: it is put back
    # afterwards (funml.train(nproc=...) launches from a notebook's or a test's process).
    before = dict(os.environ)
    # torchrun sets this too (with a banner) when it starts several workers; funml sets each
    # worker's thread count itself (funml.nn.train.threads_for).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ[LAUNCHER_PID_VARIABLE] = str(os.getpid())  # the workers stop if it dies
    args = get_args_parser().parse_args([*settings.torchrun_args(), *command])
    try:
        run(args)
    except ChildFailedError as e:
        rank, failure = e.get_first_failure()
        if failure.exitcode < 0:
            how = f"was killed by {failure.signal_name()}"
        else:
            how = f"exited with code {failure.exitcode}"
        restarts = f" after {settings.max_restarts} restarts" if settings.max_restarts else ""
        raise WorkersFailed(f"Worker process {rank} (pid {failure.pid}) {how}{restarts}") from None
    except SignalException as e:
        raise WorkersFailed(f"The launcher was stopped by {e.sigval.name}") from None
    finally:
        os.environ.clear()
        os.environ.update(before)


def cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _free_port(addr: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the store does: a port whose last connection is in TIME_WAIT is free to listen on.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("", port))
        except OSError as e:
            raise FunmlError(
                f"Port {port} is already in use on this machine ({e.strerror}); pass a free "
                "--master-port, or leave it out on one machine to have one chosen."
            ) from None
