"""A student's submission, reduced to what a grader may run: imports, definitions, constants.

A ``.py`` file or a Jupyter notebook (``.ipynb``, read with :mod:`nbformat`) is parsed with
:mod:`ast`, never run here. Of its top-level statements only these are kept:

- ``import`` and ``from ... import`` statements;
- function and class definitions (with their decorators);
- assignments of literal constants: ``EPS = 1e-8``, ``SIZES = (784, 128, 10)``.

Training cells, plots and every other top-level statement are dropped, so checking is quick
and a notebook behaves like the same code in a ``.py`` file. The kept statements stay on
their original lines (dropped lines become blank), so a traceback from the child process
points at the student's own line numbers; :meth:`Submission.where` turns a line of the
reduced text back into "line 12" or "cell 4, line 3".
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from funml.errors import FunmlError

SUFFIXES = (".py", ".ipynb")
MAX_BYTES = 5 * 2**20  # a course submission is a few hundred lines; refuse anything huge

_LITERALS = (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict)


@dataclass(frozen=True)
class Submission:
    """The reduced text of a submission, or why it cannot be run.

    Attributes
    ----------
    path : Path
    source : str
        The kept statements on their original lines ("" when ``syntax_error`` is set).
    defined : tuple of str
        Names the kept statements define (functions, classes, constants).
    syntax_error : str or None
        One sentence naming the place of the first syntax error.
    skipped : int
        Top-level statements that were dropped.
    imports : tuple of str
        Modules the kept top-level imports name.
    cells : tuple of (int, int)
        For notebooks: (first line in ``source``, cell number) of every code cell.
    """

    path: Path
    source: str
    defined: tuple[str, ...] = ()
    syntax_error: str | None = None
    skipped: int = 0
    imports: tuple[str, ...] = ()
    cells: tuple[tuple[int, int], ...] = field(default=())

    def where(self, line: int) -> str:
        """Name line ``line`` of :attr:`source` as the student sees it."""
        for first, number in reversed(self.cells):
            if line >= first:
                return f"cell {number}, line {line - first + 1}"
        return f"line {line}"


def load_submission(path: str | Path) -> Submission:
    """Read and reduce a ``.py`` or ``.ipynb`` submission.

    Raises
    ------
    FunmlError
        If the file is missing, unreadable, too large, not UTF-8 text, of another kind,
        or a notebook that :mod:`nbformat` cannot read. A syntax error is not raised: it
        is recorded in :attr:`Submission.syntax_error`, so every check can report it.
    """
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise FunmlError(f"Submission '{path}' must be a .py file or a Jupyter notebook (.ipynb).")
    if not path.is_file():
        raise FunmlError(f"Submission '{path}' does not exist or is not a file.")
    if path.stat().st_size > MAX_BYTES:
        raise FunmlError(
            f"Submission '{path}' is larger than {MAX_BYTES // 2**20} MB; "
            "submit the code only, without outputs or data."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FunmlError(f"Submission '{path}' is not UTF-8 text.") from None
    if path.suffix.lower() == ".ipynb":
        code, cells = _notebook_code(path, text)
    else:
        code, cells = text, ()
    return reduce_source(code, path=path, cells=cells)


def reduce_source(code: str, path: Path = Path("<submission>"), cells=()) -> Submission:
    """Keep the imports, definitions and literal constants of ``code``; see the module."""
    try:
        tree = ast.parse(code, filename=str(path))
    except SyntaxError as e:
        sub = Submission(path=path, source="", cells=tuple(cells))
        where = sub.where(e.lineno or 1)
        message = f"The submission cannot be parsed: {e.msg} at {where}."
        return Submission(path=path, source="", syntax_error=message, cells=tuple(cells))
    except (ValueError, RecursionError, MemoryError):
        return Submission(
            path=path, source="", syntax_error="The submission cannot be parsed as Python."
        )
    lines = code.splitlines()
    kept = [""] * len(lines)
    defined: list[str] = []
    imports: list[str] = []
    skipped = 0
    for node in tree.body:
        names = _kept_names(node)
        if names is None:
            skipped += 1
            continue
        defined.extend(names)
        if isinstance(node, ast.Import):
            imports += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports.append(node.module)
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        for i in range(first - 1, node.end_lineno):
            kept[i] = lines[i]
    return Submission(
        path=path,
        source="\n".join(kept) + "\n",
        defined=tuple(defined),
        skipped=skipped,
        imports=tuple(imports),
        cells=tuple(cells),
    )


def _kept_names(node: ast.stmt) -> list[str] | None:
    """The names a kept statement defines, or None for a statement that is dropped."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        return []
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if (
        isinstance(node, ast.Assign)
        and _is_literal(node.value)
        and all(isinstance(t, ast.Name) for t in node.targets)
    ):
        return [t.id for t in node.targets]
    if (
        isinstance(node, ast.AnnAssign)
        and node.value is not None
        and _is_literal(node.value)
        and isinstance(node.target, ast.Name)
    ):
        return [node.target.id]
    return None


def _is_literal(node: ast.expr) -> bool:
    """True for a constant, a signed number, or a tuple/list/set/dict of those."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return isinstance(node.operand, ast.Constant)
    if not isinstance(node, _LITERALS):
        return False
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_literal(k) for k in node.keys) and all(
            _is_literal(v) for v in node.values
        )
    return all(_is_literal(e) for e in node.elts)


def _notebook_code(path: Path, text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The code cells of a notebook, joined; IPython magics (``%``, ``!``) become blank."""
    import nbformat

    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception:  # nbformat raises many kinds; any of them means "not a notebook"
        raise FunmlError(f"Submission '{path}' is not a readable Jupyter notebook.") from None
    lines: list[str] = []
    cells: list[tuple[int, int]] = []
    number = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        number += 1
        cells.append((len(lines) + 1, number))
        for line in str(cell.get("source", "")).splitlines():
            magic = line.lstrip().startswith(("%", "!"))
            lines.append("" if magic else line)
    return "\n".join(lines) + "\n", tuple(cells)
