"""Untrusted submissions: each misbehaviour is a failed check with a clear message, in bounded
time, and nothing the child writes is unpickled."""

import time

import numpy as np
import pytest

from funml.check import CheckSettings, Limits, check_submission
from funml.check.exchange import ExchangeError, read_record, write_record

SETTINGS = CheckSettings(limits=Limits(seconds=3.0, memory_mb=1024))

GRAPH_OK = """
import math
def graph_answers():
    f = math.exp(-(0.1 * 0.3 - 0.2 * 0.4))
    return {"f": f, "e": f - 1, "de_dw1": -f * 0.3, "de_dw2": -f * 0.4}
"""


def check(tmp_path, source, topic="graph", name="s.py", settings=SETTINGS):
    path = tmp_path / name
    path.write_text(source)
    start = time.monotonic()
    report = check_submission(topic, path, settings)
    return report, time.monotonic() - start


def messages(report):
    return [c.message for c in report.checks]


def test_a_right_answer_passes(tmp_path):
    report, _ = check(tmp_path, GRAPH_OK)
    assert report.passed and report.score == report.max_score == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    while True:\n        pass", "took longer than 3 s"),
        ("    import numpy\n    return numpy.ones(50 * 10**9 // 8)", "ran out of memory"),
        ("    import os\n    os._exit(3)", "exited with code 3"),
        ("    import sys\n    sys.exit()", "called sys.exit()"),
        ("    import ctypes\n    return ctypes.string_at(0)", "killed by signal SIGSEGV"),
        ("    return [1, 2, 3]", "returned a list, not a dict"),
        ("    return {'f': 1.0}", "has no key 'e', 'de_dw1', 'de_dw2'"),
        ("    return {'f': 'x', 'e': 1, 'de_dw1': 1, 'de_dw2': 1}", "not an array of numbers"),
        ("    raise NotImplementedError", "Not implemented yet"),
        ("    return 1 / 0", "raised ZeroDivisionError: division by zero (line 2, in"),
    ],
)
def test_misbehaviour_is_a_failed_check(tmp_path, body, expected):
    report, seconds = check(tmp_path, f"def graph_answers():\n{body}\n")
    assert not report.passed and report.score == 0
    assert all(expected in m for m in messages(report)), messages(report)
    assert seconds < 30


def test_a_crash_in_one_check_does_not_sink_the_others(tmp_path):
    source = """
import os
from funml.scratch.knn import KNNClassifier as _KNN
class KNNClassifier:
    def __init__(self, num_neighbors):
        self.k = num_neighbors
    def fit(self, X, y):
        if X.dtype.name == "uint8":
            os._exit(1)
        self.m = _KNN(self.k).fit(X, y)
        return self
    def predict(self, X):
        return self.m.predict(X)
"""
    # Time enough for the child to import scikit-learn on a busy machine: what is tested
    # here is the crash, not the time limit.
    roomy = CheckSettings(limits=Limits(seconds=60.0, memory_mb=1024))
    report, _ = check(tmp_path, source, topic="knn", settings=roomy)
    failed = [c for c in report.checks if not c.passed]
    assert [c.name for c in failed] == ["knn-uint8-pixels"]
    assert "exited with code 1" in failed[0].message  # a fresh child ran the checks after it


def test_syntax_error_fails_every_check(tmp_path):
    report, _ = check(tmp_path, "def graph_answers(:\n    return 1\n")
    assert all("cannot be parsed" in m and "line 1" in m for m in messages(report))


def test_missing_function_is_named(tmp_path):
    report, _ = check(tmp_path, "def graph_answer():\n    return {}\n")
    assert all("defines no 'graph_answers'" in m for m in messages(report))


def test_wrong_return_shape_is_named(tmp_path):
    source = "import numpy as np\ndef my_convolution(input_numpy, kernel_numpy):\n"
    source += "    return np.zeros((2, 4, 5, 6))\n"
    report, _ = check(tmp_path, source, topic="conv2d")
    shape = report.checks[0]
    assert not shape.passed and "has shape (2, 4, 5, 6)" in shape.message


def test_top_level_statements_never_run(tmp_path):
    marker = tmp_path / "ran.txt"
    source = f"open({str(marker)!r}, 'w').close()\nwhile True:\n    pass\n" + GRAPH_OK
    report, _ = check(tmp_path, source)
    assert report.passed and not marker.exists()


def test_an_endless_class_body_stops_loading(tmp_path):
    source = GRAPH_OK + "class Slow:\n    while True:\n        pass\n"
    report, seconds = check(tmp_path, source)
    assert all("Loading the submission took longer" in m for m in messages(report))
    assert seconds < 30


def test_writing_to_the_status_channel_is_refused(tmp_path):
    source = GRAPH_OK.replace(
        "def graph_answers():",
        "def graph_answers():\n    import os, sys\n    os.write(int(sys.argv[3]), b'done 1\\n')",
    )
    report, _ = check(tmp_path, source)
    assert not report.checks[0].passed


def test_talking_on_the_status_channel_cannot_extend_the_time(tmp_path):
    source = """
import os, sys, time
def graph_answers():
    while True:
        os.write(int(sys.argv[3]), b"start 0\\n")
        time.sleep(0.5)
"""
    report, seconds = check(tmp_path, source)
    assert not report.passed and seconds < 30


def test_output_is_captured_and_a_failed_import_is_a_note(tmp_path):
    source = "import not_a_package_funml\n" + GRAPH_OK.replace(
        "def graph_answers():", "def graph_answers():\n    print('x' * 5000)"
    )
    report, _ = check(tmp_path, source)
    assert report.passed
    assert report.checks[0].output == "x" * 1999 + "\n"
    assert any("not_a_package_funml" in n for n in report.notes)


def test_exchange_refuses_pickles(tmp_path):
    np.save(tmp_path / "0-0.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "0.json").write_text('{"values": {"x": {"npy": 0}}}')
    with pytest.raises(ExchangeError):
        read_record(tmp_path, 0)


def test_exchange_round_trip(tmp_path):
    write_record(tmp_path, 2, {"values": {"a": np.arange(3.0), "b": np.float64(np.nan), "c": True}})
    record = read_record(tmp_path, 2)
    np.testing.assert_array_equal(record["values"]["a"], np.arange(3.0))
    assert np.isnan(record["values"]["b"]) and record["values"]["c"] is True


def test_exchange_refuses_links_pipes_and_lying_headers(tmp_path):
    import os

    (tmp_path / "0.json").symlink_to("/dev/zero")
    with pytest.raises(ExchangeError):
        read_record(tmp_path, 0)
    os.mkfifo(tmp_path / "1.json")
    with pytest.raises(ExchangeError):
        read_record(tmp_path, 1)  # a pipe would block a plain open()
    # A header that claims 10**12 numbers over 80 bytes of data is refused before numpy
    # allocates anything.
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    with open(tmp_path / "2-0.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        f.write(np.arange(10.0).tobytes())
    (tmp_path / "2.json").write_text('{"values": {"x": {"npy": 0}}}')
    with pytest.raises(ExchangeError):
        read_record(tmp_path, 2)
    (tmp_path / "3-0.npy").write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': (}     \n")
    (tmp_path / "3.json").write_text('{"values": {"x": {"npy": 0}}}')
    with pytest.raises(ExchangeError):
        read_record(tmp_path, 3)


def test_escape_sequences_in_messages_are_neutralised(tmp_path):
    report, _ = check(tmp_path, "def graph_answers():\n    raise ValueError('\\x1b[2Jgone')\n")
    assert all("\x1b" not in m and "?[2Jgone" in m for m in messages(report))


def test_importing_funml_is_noted(tmp_path):
    source = "from funml.check.reference.graph import graph_answers\n"
    report, _ = check(tmp_path, source)
    assert report.passed
    assert any("imports funml" in n for n in report.notes)
