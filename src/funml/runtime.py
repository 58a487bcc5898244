"""Process-wide settings that entry points (the command line, the benchmarks) make once.

Libraries never call this: it changes the environment of the whole process, and it only
takes effect before torch is imported.
"""

from __future__ import annotations

import os


def configure_process() -> None:
    """Quiet, well-behaved threads for this process; call before importing torch.

    - Idle OpenMP threads sleep instead of spinning: on a busy machine, spinning threads
      made torch 10-20x slower here (``benchmarks/train.py``). Read once, when torch loads.
    - Torch's per-process NNPACK warning on some CPUs is silenced.

    A value the user already set in the environment wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
