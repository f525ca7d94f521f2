"""The notebook templates: clean, parameterised, and telling each school's story.

papermill runs every school notebook for every sample school (in parallel, real
kernels); nbval checks the templates and, on a generated notebook, cell outputs
against figures computed here independently from the raw CSV files.
"""
import csv
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, SAMPLE, all_gone

from gaptools.batch import warm

NOTEBOOKS = ROOT / "notebooks"
SCHOOL_NOTEBOOKS = ["01_cohort_overview", "02_gap_analysis", "03_intervention_targeting"]
SCHOOL_PARAMETERS = ["data", "school_id", "year", "key_stage", "mapping", "suppression_threshold", "out_dir"]
TRUST_PARAMETERS = ["data", "mapping", "suppression_threshold", "results_dir"]
IN_YEAR_PARAMETERS = ["assessments", "school_id", "school_name", "assessments_mapping", "targets",
                      "suppression_threshold", "out_dir"]
SCHOOLS = ["900101", "900102", "900103", "900104", "900201", "900202"]


def parameter_names(nb):
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    names = []
    for line in cells[0].source.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            names.append(line.split("=")[0].strip())
    return names


@pytest.mark.parametrize("name", SCHOOL_NOTEBOOKS + ["04_trust_overview", "06_in_year"])
def test_templates_are_clean_and_parameterised(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "template stored with outputs"
    assert all(c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    expected = TRUST_PARAMETERS if name.startswith("04") else IN_YEAR_PARAMETERS if name.startswith("06") else \
        SCHOOL_PARAMETERS + (["current", "current_mapping"] if name.startswith(("01", "03")) else []) \
        + (["activities", "activities_mapping"] if name.startswith(("02", "03")) else []) \
        + (["assessments", "assessments_mapping"] if name.startswith("02") else [])
    assert parameter_names(nb) == expected
    # narrative before every result: each code cell after the parameters follows a markdown cell
    # or a cell that continues the same section
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 5
    # thin notebooks: no cell grows logic (the parameters cell holds one assignment a line, none of it logic)
    for c in nb.cells:
        if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", []):  # (settings are not logic)
            assert len(c.source.splitlines()) <= 9, c.source


def _run(name, school, tmp, **params):
    """Execute a template as `gaptools run` does (papermill, parameters injected, a real kernel; call
    it inside ``warm.session()``, as the runner does, so that no warm parent outlives the test)."""
    from gaptools.batch.kernels import execute_notebook

    out = tmp / f"{name}-{school}.ipynb"
    execute_notebook(NOTEBOOKS / f"{name}.ipynb", out, {"data": str(SAMPLE), "school_id": school, **params},
                     cwd=str(NOTEBOOKS), timeout=600, retries=2)
    return out


def _text(path):
    nb = nbformat.read(path, as_version=4)
    return _output_text(path.name, [o for c in nb.cells for o in c.get("outputs", [])])


def _nbval_text(nbval_run, name):
    """The text of a notebook's outputs in the shared nbval run (see ``nbval_run``)."""
    return _output_text(name, [o for cell in nbval_run["outputs"][name] for o in cell])


def _output_text(name, outputs):
    """The text of a notebook's outputs (an error output fails the test)."""
    parts = []
    for o in outputs:
        if o.get("output_type") == "error":
            raise AssertionError(f"{name}: {o['ename']}: {o['evalue']}")
        data = o.get("data", {})
        parts.append(data.get("text/markdown", "") + data.get("text/html", "") + data.get("text/plain", "")
                     + o.get("text", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(sample_run, tmp_path_factory):
    """Every school notebook for every sample school, as `gaptools run` executed them through
    papermill with parameters injected; plus the small school's 2024 reports, run here."""
    out, manifest = sample_run
    texts = {}
    for school in SCHOOLS:
        for name in SCHOOL_NOTEBOOKS:
            path = out / manifest["schools"][school]["folder"] / "notebooks" / f"{name}.ipynb"
            texts[(name, school, "{}")] = _text(path)
    tmp = tmp_path_factory.mktemp("papermill")
    jobs = [("02_gap_analysis", "900202", {"year": 2024}), ("03_intervention_targeting", "900202", {"year": 2024})]
    with warm.session(), ThreadPoolExecutor(max_workers=2) as pool:
        paths = list(pool.map(lambda j: _run(j[0], j[1], tmp, **j[2]), jobs))
    for (n, s, p), path in zip(jobs, paths):
        texts[(n, s, json.dumps(p, sort_keys=True))] = _text(path)
    texts["out"] = out
    return texts


def text(executed, name, school, **params):
    return executed[(name, school, json.dumps(params, sort_keys=True))]


def test_every_school_notebook_runs_for_every_school(executed):
    for school in SCHOOLS:
        for name in SCHOOL_NOTEBOOKS:
            t = text(executed, name, school)
            assert "disadvantaged pupils" in t
            nb = nbformat.read(executed["out"] / school / "notebooks" / f"{name}.ipynb", as_version=4)
            injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
            assert len(injected) == 1 and f'school_id = "{school}"' in injected[0].source


def test_gap_reports_tell_the_planted_stories(executed):
    assert "about twice their maths gap" in text(executed, "02_gap_analysis", "900101")
    assert "The Attainment 8 gap has narrowed" in text(executed, "02_gap_analysis", "900102")
    assert "The Attainment 8 gap has widened" in text(executed, "02_gap_analysis", "900103")
    no_gap = text(executed, "02_gap_analysis", "900104")
    assert "No clear difference" in no_gap and "behind other pupils'" not in no_gap
    small = text(executed, "02_gap_analysis", "900202", year=2024)
    assert "Too few disadvantaged pupils" in small and "withheld" in small
    assert "this cohort sat no KS2 tests" in text(executed, "02_gap_analysis", "900101")  # 2025: no prior


def test_targeting_reports(executed):
    first = text(executed, "03_intervention_targeting", "900101")
    assert "Literacy, reading and oral language" in first and "Reading comprehension strategies" in first
    assert "Pupil Premium strategy statement" in first and "Draft for the school to edit" in first
    assert "No priority area" in text(executed, "03_intervention_targeting", "900104")
    assert "No priority area" in text(executed, "03_intervention_targeting", "900202", year=2024)
    out = executed["out"] / "900101"
    assert {"targets.csv", "strategy.md", "results.json"} <= {p.name for p in out.iterdir()}
    # run without current pupils: the list says it needs them and lists nobody (leavers never)
    assert "the list needs the pupils on roll now" in first
    with open(out / "targets.csv") as fh:
        ids = {r["UPN"] for r in csv.DictReader(fh)}
    assert ids == set()


def test_trust_overview_from_data(nbval_run):
    """The trust overview as the template computes it from the pupil data (its default, the sample
    trust), read from nbval's run of it."""
    t = _nbval_text(nbval_run, "04_trust_overview.ipynb")
    assert "Hillcrest High School" in t and "widening" in t and "closing" in t
    with open(SAMPLE / "900101.csv") as fh:
        upns = {r["pupil_id"] for r in csv.DictReader(fh)}
    assert not any(u in t for u in upns), "pupil-level data on the trust page"


def test_published_notebook_runs(nbval_run):
    """The published benchmarks template as shipped (the DfE KS2 tables in the project, one school
    placed among the others), read from nbval's run of it; `gaptools run` runs it in the sample run."""
    text = _nbval_text(nbval_run, "05_published_benchmarks.ipynb")
    assert "Anstey Junior School" in text and "SUPP (suppressed (small group))" in text


def _nbval_results(junit: Path) -> dict[str, dict[str, str]]:
    """``{notebook file name: {cell item name: outcome}}`` from nbval's junit report (xunit1: with each file)."""
    import xml.etree.ElementTree as ET

    results: dict[str, dict[str, str]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "skipped"
        results.setdefault(Path(case.get("file", "")).name, {})[case.get("name")] = outcome
    return results


def _raw_gap(school, year, column):
    """Mean of other pupils minus mean of disadvantaged pupils, from the CSV with the csv module."""
    dis, oth = [], []
    with open(SAMPLE / f"{school}.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if int(r["year"]) == year and r[column] != "":
                (dis if r["disadvantaged"] == "True" else oth).append(float(r[column]))
    return sum(oth) / len(oth) - sum(dis) / len(dis), len(dis), len(oth)


CHECKED = ("attainment8", "grade_english", "grade_maths")


@pytest.fixture(scope="module")
def nbval_run(tmp_path_factory):
    """One nbval session, as a user runs it (`pytest -p nbval.plugin --nbval-lax`), over every template and a copy of
    02 with NBVAL_CHECK_OUTPUT cells whose expected outputs are figures computed here from the raw
    CSV: one right check per measure in ``CHECKED``, then the first of them again with a wrong
    expectation (``0.0000 1 1``), which nbval must report as failed. (The templates and the checks
    were three nbval sessions, the wrong expectation a second execution of 02.)

    Each notebook's kernel is a fresh fork of a warm parent, as `gaptools run`'s are, not a new
    Python importing everything again (about 5 core-seconds a notebook): besides nbval, the session
    loads the ``nbval_warm_kernels`` plugin from this folder, which holds one warm parent for the
    session and stops it (and anything it forked) as the session ends. ``kernels`` is its log of what
    started (see test_nbval_kernels_are_fresh_forks_of_a_warm_parent)."""
    tmp = tmp_path_factory.mktemp("nbval")
    nb = nbformat.read(NOTEBOOKS / "02_gap_analysis.ipynb", as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source += f'\ndata = "{SAMPLE}"\nschool_id = "900101"'
    first = sum(c.cell_type == "code" for c in nb.cells)  # nbval numbers the code cells
    expected = []
    for column in CHECKED:
        gap, n_dis, n_oth = _raw_gap("900101", 2025, column)
        expected.append((column, f"{gap:.4f} {n_dis} {n_oth}\n"))
    expected.append((CHECKED[0], "0.0000 1 1\n"))  # wrong: must fail
    for i, (column, text) in enumerate(expected):
        src = ("# NBVAL_CHECK_OUTPUT\n"
               f"_g = report.results.gaps.query(\"year == 2025 and measure == '{column}' and "
               "comparison == 'in_school' and subgroup.isna()\").iloc[0]\n"
               "print(f\"{_g.gap:.4f} {_g.n_disadvantaged} {_g.n_reference}\")")
        cell = nbformat.v4.new_code_cell(src)
        cell.execution_count = i + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nb.cells.append(cell)
    path = tmp / "checks.ipynb"
    nbformat.write(nb, path)
    junit, kernels, outputs = tmp / "nbval.xml", tmp / "kernels.json", tmp / "outputs.json"
    # the session and its kernels import this checkout's gaptools and find the plugin in tests/;
    # the session loads nbval and that plugin alone (other installed pytest plugins, hypothesis, xdist...,
    # take seconds to load and do nothing here), the plugin first, so that it is imported before nbval
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "tests"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    r = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", "--rootdir=/",
                        "-p", "nbval_warm_kernels", "-p", "nbval.plugin", f"--warm-kernels-log={kernels}",
                        f"--nbval-outputs={outputs}", "-o", "junit_family=xunit1", f"--junitxml={junit}",
                        str(NOTEBOOKS), str(path)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    results = _nbval_results(junit)
    return {"r": r, "results": results, "checks": [f"Cell {first + i}" for i in range(len(expected))],
            "kernels": json.loads(kernels.read_text()) if kernels.is_file() else None,
            "outputs": json.loads(outputs.read_text()) if outputs.is_file() else {}}


def test_nbval_on_every_template(nbval_run):
    r, results = nbval_run["r"], nbval_run["results"]
    templates = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert len(templates) == 6 and set(templates) <= set(results), (sorted(results), r.stdout[-3000:])
    for name in templates:
        cells = results[name]
        code = sum(c.cell_type == "code" for c in nbformat.read(NOTEBOOKS / name, as_version=4).cells)
        assert len(cells) == code, (name, cells)  # every code cell ran...
        assert set(cells.values()) == {"passed"}, (name, cells, r.stdout[-3000:] + r.stderr[-2000:])  # ...and passed
    assert " passed" in r.stdout


def test_nbval_checks_outputs_against_independent_figures(nbval_run):
    r, results = nbval_run["r"], nbval_run["results"]["checks.ipynb"]
    *right, wrong = nbval_run["checks"]
    assert [results[c] for c in right] == ["passed"] * len(CHECKED), (results, r.stdout[-3000:])
    # and the check can fail: a wrong expectation is caught
    assert results[wrong] == "failed", results
    assert r.returncode != 0 and "1 failed" in r.stdout, r.stdout[-3000:]
    assert {c: o for c, o in results.items() if c not in nbval_run["checks"]} == \
        {c: "passed" for c in results if c not in nbval_run["checks"]}  # the rest of 02 ran as usual


def test_nbval_kernels_are_fresh_forks_of_a_warm_parent(nbval_run):
    """Every notebook nbval ran had a kernel of its own, a new fork of the session's one warm parent
    (kernels started afresh only with warm kernels switched off); none of them, nor the parent,
    outlived the session."""
    log, r = nbval_run["kernels"], nbval_run["r"]
    assert log is not None, r.stdout[-3000:] + r.stderr[-2000:]
    started = log["forked"] + log["cold"]
    assert len(started) == len(set(started)) == len(nbval_run["results"]) == 7, log  # one new kernel each
    if warm.enabled():
        assert log["cold"] == [] and log["parent"] is not None, log
    else:
        assert log["forked"] == [] and log["parent"] is None, log
    assert all_gone(started + [p for p in [log["parent"]] if p is not None]), log
