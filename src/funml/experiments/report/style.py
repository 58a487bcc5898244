"""The report's inline style sheet: readable on a phone, a desktop, and on paper."""

CSS = """
:root { --fg: #1d1f21; --muted: #5f6368; --line: #d9dce0; --ok: #1e7b34; --bad: #b3261e;
        --bg-soft: #f5f6f8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 62rem; padding: 1rem; color: var(--fg);
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.6rem; margin: .5rem 0; }
h2 { font-size: 1.3rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .4rem; }
.lead { font-size: 1.1rem; }
.cols { display: flex; flex-wrap: wrap; gap: 0 2rem; }
.cols > div { flex: 1 1 22rem; min-width: 0; }
table { border-collapse: collapse; margin: .3rem 0; font-size: .92rem; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .5rem; text-align: left;
         vertical-align: top; }
thead th { background: var(--bg-soft); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { font-weight: 600; white-space: nowrap; }
.scroll { overflow-x: auto; max-width: 100%; }
code, pre { font: .85rem/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: var(--bg-soft); padding: .6rem; overflow-x: auto; white-space: pre; }
nav ol { padding-left: 1.4rem; }
nav li { margin: .15rem 0; }
nav .sum { color: var(--muted); font-size: .9rem; }
.status { font-size: .8rem; font-weight: 600; padding: .05rem .4rem; border-radius: .6rem;
          color: #fff; background: var(--bad); vertical-align: middle; }
.status.ok { background: var(--ok); }
.time { color: var(--muted); font-size: .85rem; font-weight: normal; }
section { border-top: 2px solid var(--line); margin-top: 1.5rem; }
.question { font-style: italic; }
.answer { border-left: 4px solid #4a6fa5; padding: .4rem .6rem; background: #f1f5fb; }
.verdict { background: #eef6ee; border-left: 4px solid var(--ok); padding: .4rem .6rem; }
.error { background: #fbeeed; border-left: 4px solid var(--bad); padding: .4rem .6rem; }
.notes { color: var(--muted); }
figure { margin: 1rem 0; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { text-align: center; color: var(--muted); font-size: .9rem; }
.top { font-size: .85rem; }
footer { color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line);
         margin-top: 2rem; }
@media (max-width: 40rem) { body { padding: .5rem; font-size: 15px; } h1 { font-size: 1.3rem; } }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  .top, details { display: none; }
  section { break-before: page; border: none; }
  figure, table, .verdict, .answer { break-inside: avoid; }
  figure img { max-height: 230mm; width: auto; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  .scroll { overflow: visible; }
}
"""
