"""HTML pieces for objects that display themselves in a notebook (``_repr_html_``).

Plain strings, no scripts: a figure is an ``<img>`` holding its PNG as base64, as in
``report.html``. Used by :class:`funml.nn.train.TrainResult` and
:class:`funml.nn.summary.ModelSummary`; the experiments' results render through the report
itself (:mod:`funml.experiments.report.html`).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from typing import Any

from matplotlib.figure import Figure

from funml.files import FIGURE_DPI


def escape(value: Any) -> str:
    """``str(value)`` made safe to put in HTML text or an attribute."""
    return html.escape(str(value), quote=True)


def figure_html(fig: Figure, caption: str) -> str:
    """``fig`` as an inline PNG with its caption."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(caption)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def table_html(columns: Sequence[str], rows: Iterable[Sequence[Any]], numeric=()) -> str:
    """A table; the columns whose index is in ``numeric`` are right-aligned."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="text-align:{"right" if i in numeric else "left"}">{escape(v)}</td>'
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def key_value_html(rows: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of names and values."""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"
