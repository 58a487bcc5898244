"""Helpers shared by several test modules: import them with ``from helpers import ...``.

(pytest puts this folder on ``sys.path``, as it holds test modules and no ``__init__.py``.)
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Callable, Iterator

import numpy as np


@contextlib.contextmanager
def loopback_server(handler: type, **handler_kwargs) -> Iterator[http.server.HTTPServer]:
    """Serve HTTP on 127.0.0.1 at a free port, in a background thread, until the block ends.

    ``handler`` is a ``BaseHTTPRequestHandler`` subclass (its request log is silenced);
    ``handler_kwargs`` go to its constructor, e.g. ``directory=`` for
    ``SimpleHTTPRequestHandler``. The server's ``url`` attribute is ``http://127.0.0.1:PORT``.
    """
    quiet = type(handler.__name__, (handler,), {"log_message": lambda self, *args: None})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(quiet, **handler_kwargs)
    )
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def assert_one_sentence_error(result, *needles: str) -> None:
    """Assert that a ``CliRunner`` result is the CLI's answer to bad input: exit code 1 and
    one line ``Error: ... .`` holding every needle, with no traceback."""
    output = result.output
    assert result.exit_code == 1, output
    assert "Traceback" not in output, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: ") and lines[0].endswith("."), output
    for needle in needles:
        assert needle in lines[0], output


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences (f(x + h) - f(x - h)) / 2h of the scalar ``f()`` with respect to
    every entry of the float array ``x``, which ``f`` reads: each entry is moved in place
    and put back exactly."""
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(*x.shape):
        saved = x[idx]
        x[idx] = saved + h
        up = f()
        x[idx] = saved - h
        down = f()
        x[idx] = saved
        grad[idx] = (up - down) / (2 * h)
    return grad


def small_training(**changes):
    """Resolved settings of a small, fast digits-cnn run on 200 Digits images, with the plain
    loop (Adam, step schedule, no weight decay, smoothing or augmentation, fp32); each test
    changes what it is about with ``changes``."""
    import dataclasses

    from funml.nn import TrainSettings

    base = TrainSettings(
        model="digits-cnn",
        dataset="digits",
        epochs=3,
        batch_size=32,
        optimizer="adam",
        lr=3e-3,
        n_train=200,
        threads=1,
        quiet=True,
        schedule="step",
        weight_decay=0.0,
        label_smoothing=0.0,
        augment="none",
        precision="fp32",
    )
    return dataclasses.replace(base, **changes).resolved()
