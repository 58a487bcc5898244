"""funml.check.submission: what is kept of a .py or .ipynb file, and how it is refused."""

import nbformat
import pytest

from funml.check.submission import load_submission, reduce_source
from funml.errors import FunmlError

SOURCE = """import numpy as np
from math import exp

EPS = 1e-8
SIZES = (784, 128, -10)
data = np.load("train.npy")
print("training...")


@staticmethod
def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


class Model:
    pass


for i in range(10):
    softmax(i)
if __name__ == "__main__":
    main()
"""


def test_keeps_imports_definitions_and_literal_constants():
    sub = reduce_source(SOURCE)
    assert sub.syntax_error is None
    assert sub.defined == ("EPS", "SIZES", "softmax", "Model")
    assert sub.skipped == 4
    kept = sub.source.splitlines()
    # Kept statements stay on their own lines, so tracebacks give the student's line numbers.
    assert kept[0] == "import numpy as np" and kept[3] == "EPS = 1e-8"
    assert kept[9] == "@staticmethod" and kept[10] == "def softmax(x):"
    assert "np.load" not in sub.source and "print" not in sub.source
    assert "range(10)" not in sub.source and "main()" not in sub.source


def test_assignment_of_a_call_is_dropped():
    sub = reduce_source("W = np.zeros(3)\nN = [1, 2, {'a': -3.5}]\nx, y = 1, 2\n")
    assert sub.defined == ("N",)


def test_syntax_error_is_recorded_not_raised():
    sub = reduce_source("def f(:\n    pass\n")
    assert sub.source == ""
    assert (
        sub.syntax_error.startswith("The submission cannot be parsed")
        and "line 1" in sub.syntax_error
    )


def test_notebook_cells_are_joined_and_magics_blanked(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
        nbformat.v4.new_code_cell("!pip install foo\ndef f(x):\n    return x"),
        nbformat.v4.new_code_cell("f(3)"),
    ]
    path = tmp_path / "s.ipynb"
    nbformat.write(nb, path)
    sub = load_submission(path)
    assert sub.defined == ("f",) and sub.skipped == 1
    assert sub.where(4) == "cell 2, line 2"
    assert sub.where(1) == "cell 1, line 1"


def test_syntax_error_in_a_notebook_names_the_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y = (\n")]
    path = tmp_path / "s.ipynb"
    nbformat.write(nb, path)
    assert "cell 2" in load_submission(path).syntax_error


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("s.txt", "x = 1", "must be a .py file or a Jupyter notebook"),
        ("s.ipynb", "{not json", "not a readable Jupyter notebook"),
        ("missing.py", None, "does not exist"),
    ],
)
def test_unreadable_submissions_are_one_sentence_errors(tmp_path, name, content, match):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(FunmlError, match=match):
        load_submission(path)


def test_non_utf8_is_refused(tmp_path):
    path = tmp_path / "s.py"
    path.write_bytes(b"x = '\xff\xfe'\n")
    with pytest.raises(FunmlError, match="not UTF-8"):
        load_submission(path)
