"""Render a finished run as one self-contained HTML file.

Figures are embedded as base64 PNG, the style sheet is inline, and there are no scripts,
fonts or links to anything outside the file, so it opens offline, on a phone, and prints
to PDF. Everything the run produced is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import numbers
from pathlib import Path

from funml import __version__
from funml.experiments.report.style import CSS


def render_report(run) -> str:
    """The HTML text of ``run``'s report (a :class:`funml.experiments.runner.Run`)."""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(_title(run))}</title><style>{CSS}</style></head><body>",
        render_body(run),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def render_body(run) -> str:
    """The report without its page: header, contents and sections (for a notebook cell)."""
    where = f" into {run.path}" if run.path is not None else " in memory"
    parts = [
        _header(run, _title(run)),
        _toc(run),
        "<main>",
        *(render_section(o) for o in run.outcomes),
        "</main>",
        f"<footer><p>Written by funml {_e(__version__)}{_e(where)}.</p></footer>",
    ]
    return "\n".join(parts)


def _title(run) -> str:
    names = ", ".join(run.names) if len(run.names) < 4 else "all"
    return f"funml report: {names} on {run.settings.dataset}"


def _header(run, title: str) -> str:
    ok = sum(o.status == "ok" for o in run.outcomes)
    failed = len(run.outcomes) - ok
    summary = f"{ok} of {len(run.outcomes)} experiments ok"
    if failed:
        summary += f", {failed} failed ({', '.join(run.failed)})"
    summary += f"; total time {_duration(run.seconds)}."
    s = run.settings
    settings_rows = [
        ("data set", s.dataset),
        ("data folder", s.data_dir or "default search (FUNML_DATA, cache, system)"),
        ("photos folder", s.images or "none (packaged photos only)"),
        ("quick", "yes: small subsets, few epochs" if s.quick else "no"),
        ("seed", s.seed),
        ("jobs", s.jobs),
        ("recipe", f"{s.recipe} (how the torch models train)"),
        ("precision", s.precision),
    ]
    m = run.machine
    machine_rows = [
        ("CPU", f"{m['cpu']} ({m['cores']} logical cores)"),
        ("torch threads per experiment", m["torch_threads"]),
        *_training_rows(run),
        ("Python", f"{m['python']} on {m['platform']}"),
        ("libraries", ", ".join(f"{k} {v}" for k, v in m["versions"].items())),
    ]
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return "\n".join(
        [
            "<header>",
            f"<h1>{_e(title)}</h1>",
            f'<p class="lead">{_e(summary)}</p>',
            f"<p>funml {_e(__version__)}, written {_e(when)}.</p>",
            '<div class="cols">',
            _kv_table("Settings", settings_rows),
            _kv_table("Machine", machine_rows),
            "</div>",
            _sources(run),
            "</header>",
        ]
    )


def _training_rows(run) -> list[tuple[str, str]]:
    """What each model that trained ran in: its precision and torch threads, from its record."""
    rows = []
    for o in run.outcomes:
        metrics = o.result.metrics if o.result is not None else {}
        sections = [metrics, *(v for v in metrics.values() if isinstance(v, dict))]
        for m in sections:
            if "precision" in m and "threads" in m:
                model = m.get("model", o.name)
                rows.append((f"{model} trained in", f"{m['precision']}, {m['threads']} thread(s)"))
    return rows


def _sources(run) -> str:
    sources: dict[str, dict] = {}
    for o in run.outcomes:
        sources.update(o.sources)
    if not sources:
        return ""
    rows = []
    for name, info in sources.items():
        sums = info.get("checksums") or {}
        if sums:
            digest = "<br>".join(
                f"{_e(Path(f).name)}: <code>{_e(h[:16])}…</code>" for f, h in sums.items()
            )
        else:
            digest = "packaged with its library (no file to hash)"
        rows.append(f"<tr><td>{_e(name)}</td><td>{_e(info.get('source', ''))}</td>")
        rows.append(f"<td>{digest}</td></tr>")
    return (
        "<h2>Data sources</h2>"
        '<div class="scroll"><table><thead><tr><th>data set</th><th>source</th>'
        "<th>SHA-256 (first 16 hex digits)</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _toc(run) -> str:
    items = []
    for o in run.outcomes:
        items.append(
            f'<li><a href="#exp-{_e(o.name)}">{_e(o.name)}</a> '
            f'<span class="status {_e(o.status)}">{_e(o.status)}</span> '
            f'<span class="time">{_e(_duration(o.seconds))}</span> '
            f'<span class="sum">{_e(o.experiment.summary)}</span></li>'
        )
    return f'<nav id="contents"><h2>Contents</h2><ol>{"".join(items)}</ol></nav>'


def render_section(o) -> str:
    """One experiment's section: question, answer, verdict, numbers, figures (or its error)."""
    parts = [
        f'<section id="exp-{_e(o.name)}">',
        f'<h2>{_e(o.name)} <span class="status {_e(o.status)}">{_e(o.status)}</span> '
        f'<span class="time">{_e(_duration(o.seconds))}</span></h2>',
        f'<p class="question"><strong>Question.</strong> {_e(o.experiment.question)}</p>',
    ]
    if o.result is None:
        parts.append(f'<p class="error"><strong>What went wrong.</strong> {_e(o.error)}</p>')
        if o.traceback:
            parts.append(
                f"<details><summary>Traceback</summary><pre>{_e(o.traceback)}</pre></details>"
            )
    else:
        parts.extend(_result(o.result, o.figure_pngs()))
    parts.append('<p class="top"><a href="#contents">Back to contents</a></p></section>')
    return "\n".join(parts)


def _result(r, figures) -> list[str]:
    """The body of a finished experiment's section: verdict, notes, numbers, figures."""
    parts = [f'<p class="answer"><strong>Answer.</strong> {_e(r.answer)}</p>'] if r.answer else []
    parts.append(f'<p class="verdict"><strong>Verdict.</strong> {_e(r.verdict)}</p>')
    if r.notes:
        parts.append("<ul class='notes'>" + "".join(f"<li>{_e(n)}</li>" for n in r.notes))
        parts.append("</ul>")
    if r.references:
        parts.append(_references(r.references))
    parts.extend(_figure(caption, png) for caption, png in figures)
    parts.extend(_table(t) for t in r.tables)
    for caption, text in r.texts.items():
        parts.append(f"<h3>{_e(caption)}</h3><pre>{_e(text)}</pre>")
    if r.metrics:
        parts.append(
            "<details><summary>All numbers (as in metrics.json)</summary>"
            f"<pre>{_e(json.dumps(r.metrics, indent=1, default=_plain))}</pre></details>"
        )
    return parts


def _references(rows) -> str:
    body = "".join(
        "<tr>"
        f"<td>{_e(r.quantity)}</td>"
        f"{_cell(r.measured, r.unit)}{_cell(r.reference, r.unit)}"
        f"<td>{_e(r.source)}</td>"
        "</tr>"
        for r in rows
    )
    return (
        '<h3>Measured against reference</h3><div class="scroll"><table class="ref"><thead><tr>'
        "<th>quantity</th><th>funml</th><th>reference</th><th>reference is</th>"
        f"</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _cell(value, unit: str) -> str:
    # Numbers line up on the right; words and lists read from the left.
    number = isinstance(value, numbers.Number) and not isinstance(value, bool)
    return f"<td{' class=num' if number else ''}>{_e(_fmt(value, unit))}</td>"


def _figure(caption: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _table(t) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(_fmt(v, ''))}</td>" for v in row) + "</tr>" for row in t.rows
    )
    return (
        f'<h3>{_e(t.title)}</h3><div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _kv_table(title: str, rows) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<div><h2>{_e(title)}</h2><table class="kv"><tbody>{body}</tbody></table></div>'


def _fmt(value, unit: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return str(value)
    if isinstance(value, numbers.Integral):
        text = f"{value:,}"
    elif unit == "%":  # a fraction, shown as percent
        text = f"{100 * value:.2f}"
    elif abs(value) >= 1e5 or (value != 0 and abs(value) < 1e-3):
        text = f"{value:.3e}"
    else:
        text = f"{value:.4g}"
    return f"{text}{'%' if unit == '%' else (' ' + unit if unit else '')}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


def _plain(obj):
    return obj.tolist() if hasattr(obj, "tolist") else str(obj)


def _e(value) -> str:
    return html.escape(str(value), quote=True)
