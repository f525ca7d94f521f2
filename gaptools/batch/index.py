"""The trust index page (index.html)."""
from __future__ import annotations

from pathlib import Path

from ..analysis.results import ResultsError, read_results_table
from ..domain.formatting import (
    academic_year,
    amount,
    bidi_visible,
    cap,
    is_missing,
    is_yes,
    trend_text,
    with_interval,
    withheld_text,
)
from ..domain.registry import headline
from ..domain.suppression import DEFAULT_THRESHOLD
from ..io import progress
from ..reporting.html import content_security_policy
from .governors import school_is_ok
from .school import IN_YEAR_PAGE, SCHOOL_NOTEBOOKS

HEADLINE = headline("index")


# --------------------------------------------------------------- index.html
def _table(out: Path, outcome: dict):
    """The school's results model, or None (a school that failed, or has no results.json)."""
    path = out / outcome["folder"] / "results.json"
    if not school_is_ok(outcome["status"]) or not path.is_file():
        return None
    return read_results_table(path)[1]


def _headline(table) -> list[dict]:
    """The school's headline rows of the results model (latest year of each key stage), or none."""
    if table is None:
        return []
    latest = table.groupby("key_stage")["year"].transform("max")
    rows = table[table["subgroup"].isna() & (table["comparison"] == "in_school") & (table["year"] == latest)
                 & table["measure"].isin(HEADLINE)]
    return rows.to_dict("records")


def headline_cell(g: dict, threshold: int) -> dict:
    """One headline gap as the index shows it: label, figure with unit or the reason it is withheld, clear."""
    if g["suppressed"]:
        text = withheld_text(g["withheld_reason"], threshold)
    elif is_missing(g["ci_low"]):
        text = f"{amount(g['gap'], g['unit'], g['measure'], g['kind'], short=True)} (no interval: every pupil " \
               "has the same value)"
    else:
        text = with_interval(g["gap"], g["ci_low"], g["ci_high"], g["unit"], g["measure"], g["kind"])
    return {"label": f"{cap(g['label'])} {g['key_stage']} {academic_year(g['year'])}", "text": text,
            "clear": is_yes(g["clear"]) and not g["suppressed"], "trend": trend_text(g["trend"], g["trend_from"])}


def render_index(out: Path, manifest: dict) -> str:
    """The trust index page: every school, its status, headline gaps and links (HTML-escaped).

    Each headline gap is read from the school's results model: bold exactly when
    it is ``clear``, with its unit, its trend verdict and, when withheld, why.
    """
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    threshold = manifest.get("suppression_threshold", DEFAULT_THRESHOLD)
    import pandas as pd

    from ..analysis.trust import support_priorities

    schools, tables = [], []
    listed = sorted(manifest["schools"].items(), key=lambda kv: (kv[1]["status"] != "failed",
                                                                 kv[1]["school_name"] or kv[0]))
    for sid, o in progress.each(listed, len(listed), "index", "school"):  # (each school's results read)
        try:
            table = _table(out, o)
            cells = [headline_cell(g, threshold) for g in _headline(table)]
            if table is not None:
                tables.append(table.assign(school_id=str(sid), school_name=o["school_name"] or str(sid)))
        except ResultsError as e:  # one unreadable results file does not take the index down
            cells = [{"label": "Results", "text": f"not readable: {e}", "clear": False, "trend": ""}]
        outputs = set(o.get("outputs") or [])
        links = [(f"{o['folder']}/{n}.html", t) for n, t in SCHOOL_NOTEBOOKS] if school_is_ok(o["status"]) else []
        links += [(f"{o['folder']}/{n}.html", t) for n, t in (IN_YEAR_PAGE,)  # with --assessments
                  if f"{n}.html" in outputs or f"{o['folder']}/{n}.html" in outputs]
        links += [(f"{o['folder']}/{f}", t) for f, t in (("summary.pdf", "Summary (PDF, for governors)"),)
                  if f in outputs or f"{o['folder']}/{f}" in outputs]
        n_clear = sum(c["clear"] for c in cells)
        n_widening = sum(c["clear"] and c["trend"].startswith("widening") for c in cells)
        schools.append({"id": sid, **o, "cells": cells, "links": links, "n_clear": n_clear, "n_widening": n_widening})
    # which schools need attention first: the trust overview's list of where central support should go
    first = support_priorities(pd.concat(tables, ignore_index=True)) if tables else pd.DataFrame(
        columns=["school_id", "reason"])
    rank = {str(sid): i for i, sid in enumerate(first["school_id"])}
    reasons = dict(zip(first["school_id"].astype(str), first["reason"]))
    for s in schools:
        s["reason"] = reasons.get(str(s["id"]), "")
    schools.sort(key=lambda s: (s["status"] != "failed", rank.get(str(s["id"]), len(rank)),
                                s["school_name"] or s["id"]))
    attention = [s for s in schools if school_is_ok(s["status"]) and s["reason"]][:3]
    n_failed = sum(s["status"] == "failed" for s in schools)
    page = env.from_string(INDEX_TEMPLATE).render(manifest=manifest, schools=schools, n_failed=n_failed,
                                                  trust=manifest["trust"], threshold=threshold, attention=attention)
    page = bidi_visible(page)  # (a school's name never shows the rest of its line reversed)
    return page.replace("gaptools-csp-placeholder", content_security_policy(page))


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="gaptools-csp-placeholder">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Disadvantage gap reports</title>
<style>
 body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
 h1{font-size:1.6rem} table{border-collapse:collapse;width:100%;font-size:.9rem}
 th,td{border-bottom:1px solid #ddd;padding:.45rem .5rem;text-align:left;vertical-align:top}
 th{background:#f3f3f3} .failed{color:#a00000;font-weight:600} .ok{color:#006b3c}
 .clear{font-weight:700} .trend{color:#555} .muted{color:#555;font-size:.85rem} .err{font-family:monospace;font-size:.8rem;color:#700}
</style></head><body>
<h1>Disadvantage gap reports</h1>
<p class="muted">Generated {{ manifest.generated }} by gaptools. {{ schools|length }} school{{ '' if schools|length == 1 else 's' }},
{{ n_failed }} failed. Gaps: disadvantaged pupils' shortfall against other pupils in the same school, latest year, with 95% intervals;
<span class="clear">bold</span> = a clear gap (survives the false-discovery check); the trend is the change since the year named.
Groups under {{ threshold }} pupils are withheld.</p>
<p>{% if trust.status == 'ok' %}<a href="trust/04_trust_overview.html">Trust overview: which gaps are real, which are closing, where to put support</a>{% elif trust.error %}<span class="failed">Trust overview not available: {{ trust.error }}</span>{% endif %}
{% if manifest.governors %} · <a href="governors/">For governors: the summaries as PDF, naming no pupil</a>{% endif %}
{% if trust.published and trust.published.status == 'ok' %} · <a href="{{ trust.published.outputs[0] }}">Published benchmarks</a>{% endif %}</p>
{% if schools|length > 1 %}{% if attention %}<p><strong>Needs attention first</strong> (the trust overview's list of where central support should go):</p>
<ol>{% for s in attention %}<li><a href="{{ s.links[1][0] }}">{{ s.school_name }}</a>: {{ s.reason }}</li>
{% endfor %}</ol><p class="muted">Schools are listed below in the same order: most concerns first (clear headline gaps, widening gaps,
gaps behind national figures, a gap larger than the trust's), then the others by name.{% if trust.status == 'ok' %} Every school's concerns: <a href="trust/trust.csv">trust.csv</a>.{% endif %}</p>{% else %}<p>No school has a clear headline gap, a widening gap or a gap behind national figures in its latest results.</p>{% endif %}{% endif %}
<table>
<thead><tr><th>School</th><th>Status</th><th>Headline gaps</th><th>Reports</th></tr></thead>
<tbody>
{% for s in schools %}<tr>
<td>{{ s.school_name }}<br><span class="muted">{{ s.id }}</span></td>
<td class="{{ 'ok' if s.status.startswith('ok') else s.status }}">{{ s.status }}{% if s.error %}<div class="err">{{ s.error }}</div>{% endif %}</td>
{#- c["clear"], not c.clear: a dict's clear() method would make every cell bold -#}
<td>{% for c in s.cells %}<div class="cell"><span{% if c["clear"] %} class="clear"{% endif %}>{{ c.label }}: {{ c.text }}</span>{% if c.trend %} <span class="trend">· {{ c.trend }}</span>{% endif %}</div>{% endfor %}</td>
<td>{% for href, title in s.links %}<a href="{{ href }}">{{ title }}</a><br>{% endfor %}</td>
</tr>{% endfor %}
</tbody></table>
</body></html>
"""
