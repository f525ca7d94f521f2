"""The trust index page (index.html)."""
from __future__ import annotations

import json
from pathlib import Path

from .school import SCHOOL_NOTEBOOKS


# --------------------------------------------------------------- index.html
def _headline(out: Path, outcome: dict) -> list[dict]:
    path = out / outcome["folder"] / "results.json"
    if outcome["status"] != "ok" or not path.is_file():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    latest = {}
    for g in doc["gaps"]:
        latest[g["key_stage"]] = max(latest.get(g["key_stage"], 0), g["year"])
    for g in doc["gaps"]:
        if g["subgroup"] is None and g["comparison"] == "in_school" and g["year"] == latest[g["key_stage"]] \
                and g["measure"] in ("attainment8", "progress8", "basics_4plus", "rwm_expected", "attendance_pct"):
            rows.append(g)
    return rows


def render_index(out: Path, manifest: dict) -> str:
    """The trust index page: every school, its status, headline gaps and links (HTML-escaped)."""
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    labels = {"attainment8": "Attainment 8", "progress8": "Progress 8", "basics_4plus": "Grade 4+ E&M",
              "rwm_expected": "RWM expected", "attendance_pct": "Attendance"}
    schools = []
    for sid, o in sorted(manifest["schools"].items(), key=lambda kv: (kv[1]["status"] != "failed",
                                                                       kv[1]["school_name"] or kv[0])):
        cells = []
        for g in _headline(out, o):
            pct = g["kind"] == "rate"
            if g["suppressed"]:
                text = "withheld"
            else:
                f = (lambda v: f"{v * 100:.0f}") if pct else (lambda v: f"{v:.1f}" if g["measure"] != "progress8"
                                                               else f"{v:.2f}")
                text = f"{f(g['gap'])}{' pts' if pct else ''} ({f(g['ci_low'])} to {f(g['ci_high'])})"
            cells.append({"label": f"{labels[g['measure']]} {g['key_stage']} {g['year']}", "text": text,
                          "clear": bool(g.get("clear", g["significant"])) and not g["suppressed"]})
        schools.append({"id": sid, **o, "cells": cells,
                        "links": [(f"{o['folder']}/{n}.html", t) for n, t in SCHOOL_NOTEBOOKS]
                        if o["status"] == "ok" else []})
    n_failed = sum(s["status"] == "failed" for s in schools)
    page = env.from_string(INDEX_TEMPLATE).render(manifest=manifest, schools=schools, n_failed=n_failed,
                                                  trust=manifest["trust"])
    return page


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Disadvantage gap reports</title>
<style>
 body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
 h1{font-size:1.6rem} table{border-collapse:collapse;width:100%;font-size:.9rem}
 th,td{border-bottom:1px solid #ddd;padding:.45rem .5rem;text-align:left;vertical-align:top}
 th{background:#f3f3f3} .failed{color:#a00000;font-weight:600} .ok{color:#006b3c}
 .clear{font-weight:600} .muted{color:#555;font-size:.85rem} .err{font-family:monospace;font-size:.8rem;color:#700}
</style></head><body>
<h1>Disadvantage gap reports</h1>
<p class="muted">Generated {{ manifest.generated }} by gaptools. {{ schools|length }} school{{ '' if schools|length == 1 else 's' }},
{{ n_failed }} failed. Gaps: disadvantaged pupils' shortfall against other pupils in the same school, latest year, with 95% intervals;
<span class="clear">bold</span> = a clear gap (survives the false-discovery check). Groups under {{ manifest.suppression_threshold }} pupils are withheld.</p>
<p>{% if trust.status == 'ok' %}<a href="trust/04_trust_overview.html">Trust overview: which gaps are real, which are closing, where to put support</a>{% else %}<span class="failed">Trust overview not available: {{ trust.error }}</span>{% endif %}
{% if trust.published and trust.published.status == 'ok' %} · <a href="{{ trust.published.outputs[0] }}">Published benchmarks</a>{% endif %}</p>
<table>
<thead><tr><th>School</th><th>Status</th><th>Headline gaps</th><th>Reports</th></tr></thead>
<tbody>
{% for s in schools %}<tr>
<td>{{ s.school_name }}<br><span class="muted">{{ s.id }}</span></td>
<td class="{{ s.status }}">{{ s.status }}{% if s.error %}<div class="err">{{ s.error }}</div>{% endif %}</td>
<td>{% for c in s.cells %}<div{% if c.clear %} class="clear"{% endif %}>{{ c.label }}: {{ c.text }}</div>{% endfor %}</td>
<td>{% for href, title in s.links %}<a href="{{ href }}">{{ title }}</a><br>{% endfor %}</td>
</tr>{% endfor %}
</tbody></table>
</body></html>
"""
