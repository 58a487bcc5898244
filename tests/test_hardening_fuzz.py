"""A small seeded fuzz of the IDX and CSV readers and of the autodiff expression parser
(issue 16), bounded in time.

Whatever the bytes or the text, a reader or the parser either succeeds or raises a
FunmlError of one sentence; never another exception.
"""

import gzip
import time

import numpy as np
import pytest

from funml.data.csvfile import read_csv_images
from funml.data.idx import read_idx, read_idx_hashed, write_idx
from funml.errors import FunmlError

SECONDS = 1.5  # per reader: enough for a few hundred cases, short enough for every run


def _one_sentence(e: FunmlError) -> bool:
    text = str(e)
    return bool(text) and "\n" not in text and text.rstrip().endswith((".", ")"))


def _fuzz(make_case, attempt, seed):
    """Call ``attempt(make_case(rng))`` for SECONDS: each call succeeds or raises a
    FunmlError of one sentence, and both outcomes occur."""
    rng = np.random.default_rng(seed)
    end, outcomes, failures = time.monotonic() + SECONDS, {"ok": 0, "refused": 0}, []
    while time.monotonic() < end:
        case = make_case(rng)
        try:
            attempt(case)
            outcomes["ok"] += 1
        except FunmlError as e:
            outcomes["refused"] += 1
            if not _one_sentence(e):
                failures.append((case[:80], f"not one sentence: {e!r}"))
        except Exception as e:  # the bug this test looks for
            failures.append((case[:80], f"{type(e).__name__}: {e}"))
    assert not failures, failures[:3]
    assert min(outcomes.values()) >= 5, outcomes  # the fuzz reaches both outcomes


def _from_file(tmp_path, read):
    """An attempt that writes the case's bytes to a file and reads it with ``read``."""
    path = tmp_path / "fuzzed"

    def attempt(data: bytes) -> None:
        path.write_bytes(data)
        read(path)

    return attempt


def _idx_bytes(rng):
    array = rng.integers(0, 255, size=tuple(rng.integers(1, 5, size=rng.integers(1, 4))))
    dtype = rng.choice(["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
    header = bytes([0, 0, {"u1": 8, "i1": 9, ">i2": 11, ">i4": 12, ">f4": 13, ">f8": 14}[dtype]])
    header += bytes([array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = bytearray(header + array.astype(dtype).tobytes())
    for _ in range(rng.integers(0, 4)):  # flip, cut, grow
        how = rng.integers(0, 3)
        if how == 0 and data:
            data[rng.integers(0, min(len(data), 24))] = int(rng.integers(0, 256))
        elif how == 1:
            del data[rng.integers(0, len(data) + 1) :]
        else:
            data += rng.bytes(int(rng.integers(1, 9)))
    data = bytes(data)
    if rng.random() < 0.3:
        data = gzip.compress(data, mtime=0)
        if rng.random() < 0.5:  # a damaged or cut gzip stream
            cut = bytearray(data)[: rng.integers(2, len(data) + 1)]
            if len(cut) > 12 and rng.random() < 0.5:
                cut[rng.integers(10, len(cut))] ^= 0xFF
            data = bytes(cut)
    return data


@pytest.mark.parametrize(
    "read",
    [read_idx, read_idx_hashed, lambda p: read_idx(p, mmap=True)],
    ids=["read", "hashed", "mmap"],
)
def test_fuzz_idx_header_one_sentence_or_success(tmp_path, read):
    _fuzz(_idx_bytes, _from_file(tmp_path, read), seed=16)
    write_idx(tmp_path / "ok", np.arange(6, dtype=np.uint8))  # the reader still works
    assert read_idx(tmp_path / "ok").tolist() == list(range(6))


_TOKENS = [
    "0", "7", "255", "256", "-1", "x", "nan", "1.5", "1e3", "99999999999999999999",
    "\u0663", "\uff11", "", " ", "label", "\ufeff", "+3", "-0", "10" * 12,
]  # fmt: skip


def _csv_bytes(rng):
    lines = []
    for _ in range(rng.integers(0, 6)):
        n = rng.choice([5, 5, 5, 4, 6, 0, 1])
        fields = [_TOKENS[i] if rng.random() < 0.2 else str(rng.integers(0, 10)) for i in
                  rng.integers(0, len(_TOKENS), size=n)]  # fmt: skip
        lines.append(",".join(fields))
    sep = rng.choice(["\n", "\r\n", "\r"])
    data = sep.join(lines).encode()
    if rng.random() < 0.2:
        data = b"\xef\xbb\xbf" + data
    if rng.random() < 0.2 and data:
        data = bytearray(data)
        data[rng.integers(0, len(data))] = int(rng.integers(128, 256))
        data = bytes(data)
    return data


def test_fuzz_csv_reader_one_sentence_or_success(tmp_path):
    read = lambda p: read_csv_images(p, image_shape=(2, 2))  # noqa: E731
    _fuzz(_csv_bytes, _from_file(tmp_path, read), seed=16)


_ATOMS = ["x", "w1", "b", "0", "1", "2.5", "-3", "1e308", "1e-320", "0.0", "x_2", "\u03b8"]
_ODD = [
    "nan", "inf", "**", "(", ")", ",", "=", ".", "[0]", "'a'", "__import__('os')", "lambda: 1",
    "x.y", "\u00b2", "\u2212", "\u00d7", "1j", "True", "f(x)", "exp()", "exp(x, x)", "@", "%",
    "not x", "x if x else x", "*" * 3, "(" * 40, ")" * 3, "\t", "\n", "#", ";", "\\", "9" * 400,
]  # fmt: skip
_FUNCS = ["exp", "log", "sigmoid", "tanh", "relu", "sin", "abs"]  # the last two: unknown
_OPS = ["+", "-", "*", "/", "**"]


def _expression(rng, depth=0) -> str:
    """A random expression of the allowed grammar, sometimes with an odd token spliced in."""
    roll = rng.random()
    if depth > 4 or roll < 0.3:
        text = str(rng.choice(_ATOMS))
    elif roll < 0.55:
        text = f"{rng.choice(_FUNCS)}({_expression(rng, depth + 1)})"
    elif roll < 0.65:
        text = f"-({_expression(rng, depth + 1)})"
    else:
        op = rng.choice(_OPS)
        text = f"({_expression(rng, depth + 1)} {op} {_expression(rng, depth + 1)})"
    if depth == 0 and rng.random() < 0.4:  # splice an odd token in, or cut the text
        at = int(rng.integers(0, len(text) + 1))
        odd = str(rng.choice(_ODD)) if rng.random() < 0.7 else ""
        text = text[:at] + odd + text[at + (0 if odd else 1) :]
    return text


def _parse_and_differentiate(text: str) -> None:
    from funml.autodiff.parse import backprop, parse

    rng = np.random.default_rng(len(text))  # the values: the same for the same text

    graph = parse(text)
    values = {
        name: float(rng.choice([0.0, -1.0, 0.5, 3.0, 1e300, -1e-300])) for name in graph.inputs
    }
    target = None if rng.random() < 0.5 else float(rng.normal())
    backprop(text, values, target=target)


def test_fuzz_expression_parser_one_sentence_or_success():
    _fuzz(_expression, _parse_and_differentiate, seed=16)
