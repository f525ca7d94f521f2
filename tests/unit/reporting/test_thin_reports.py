"""Thin reports over a public library (issue 25): the notebooks show the path an analyst can edit,
``SchoolReport`` and ``TrustReport`` render what the analysis gives, and the pieces moved into the
analysis for that (the cohort's sizes, what is distinctive, the heatmap's schools, the analysis kept
for a school's other notebooks) give what a direct computation gives.

Cheap: the notebooks and modules are parsed, not run; the analyses are of small generated frames.
"""
import ast
import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

import gaptools

NOTEBOOKS = ROOT / "notebooks"
REPORTING = ROOT / "gaptools" / "reporting"
#: The modules of the school and trust reports, and the public tables and charts they are made of.
REPORT_MODULES = ["school", "school_data", "school_profile", "school_gaps", "school_targeting", "school_rows",
                  "trust", "trust_data", "trust_maps", "trust_support", "tables", "targeting_tables", "cohorts",
                  "cohort_charts", "public_charts"]
#: What the reports may take from the analysis: its public results (the analysis, the results model and
#: its files, the trust's statistics); never the statistics' own modules.
ANALYSIS_ALLOWED = {"analyse", "cohort", "model", "results", "trust", "trust_results", "profile"}


def _code_cells(name):
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    return [("".join(c["source"]), c["metadata"].get("tags", [])) for c in nb["cells"] if c["cell_type"] == "code"]


def _gt_calls(source):
    """Every ``gt.a.b(...)`` or ``gt.a(...)`` call in a cell, as "a.b" or "a"."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            parts, f = [], node.func
            while isinstance(f, ast.Attribute):
                parts.append(f.attr)
                f = f.value
            if isinstance(f, ast.Name) and f.id == "gt":
                out.append(".".join(reversed(parts)))
    return out


@pytest.mark.parametrize("name, tables, charts", [
    ("01_cohort_overview", {"profile"}, {"profile_chart"}),
    ("02_gap_analysis", {"findings", "measures", "national", "subgroups", "trends", "gap_index"},
     {"subject_gaps", "subject_means", "rate_gaps", "split_gaps", "gap_trend"}),
    ("03_intervention_targeting", {"priorities", "approaches", "weights"}, set()),
])
def test_the_notebooks_show_the_analysts_path(name, tables, charts):
    cells = [(s, tags) for s, tags in _code_cells(name) if "parameters" not in tags]
    calls = [c for s, _ in cells for c in _gt_calls(s)]
    setup = cells[0][0]
    # the analysis first, from the loaded pupils, then the report renders that analysis
    assert _gt_calls(setup)[:3] == ["load_school", "analyse", "SchoolReport"], setup
    assert "analysis=school" in setup.replace(" ", "")
    used_tables = {c.split(".", 1)[1] for c in calls if c.startswith("tables.")}
    used_charts = {c.split(".", 1)[1] for c in calls if c.startswith("charts.")}
    assert used_tables == tables and used_charts == charts
    for c in used_tables | used_charts:  # public and documented
        fn = getattr(gaptools.tables if c in used_tables else gaptools.charts, c)
        assert not c.startswith("_") and fn.__doc__, c
    for source, _ in cells:  # thin: no logic in a cell (no function, loop or branch)
        assert not any(isinstance(n, (ast.FunctionDef, ast.For, ast.While, ast.If, ast.ClassDef))
                       for n in ast.walk(ast.parse(source))), source


def _analysis_imports(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 2 and (node.module or "").startswith("analysis"):
            yield node.module.split(".")[1] if "." in node.module else node.module, node.lineno


def test_the_reports_render_and_compute_nothing():
    wrong = [f"reporting/{m}.py:{line} imports analysis.{mod}" for m in REPORT_MODULES
             for mod, line in _analysis_imports(REPORTING / f"{m}.py") if mod not in ANALYSIS_ALLOWED]
    assert not wrong, "\n".join(wrong)
    numeric = [m for m in REPORT_MODULES if any(
        isinstance(n, (ast.Import, ast.ImportFrom)) and any(
            (getattr(n, "module", None) or a.name).split(".")[0] in {"numpy", "scipy", "statsmodels"}
            for a in n.names)
        for n in ast.walk(ast.parse((REPORTING / f"{m}.py").read_text(encoding="utf-8"))))]
    assert not numeric, f"report modules computing with numpy/scipy/statsmodels: {numeric}"
    sizes = {m: len((REPORTING / f"{m}.py").read_text(encoding="utf-8").splitlines()) for m in REPORT_MODULES}
    assert max(sizes.values()) <= 220, sizes


def test_the_rule_catches_an_analysis_internal(tmp_path, monkeypatch):
    """The import check can fail: a report module importing the gap table's own module is found."""
    import shutil

    copy = tmp_path / "reporting"
    shutil.copytree(REPORTING, copy, ignore=shutil.ignore_patterns("__pycache__", "templates"))
    (copy / "trust.py").write_text((copy / "trust.py").read_text() + "\nfrom ..analysis.gaps import gap_table\n")
    monkeypatch.setattr(__import__(__name__), "REPORTING", copy)
    with pytest.raises(AssertionError, match="analysis.gaps"):
        test_the_reports_render_and_compute_nothing()


def _profile(rows):
    return pd.DataFrame(rows, columns=["key_stage", "year", "characteristic", "value", "group", "n", "pct",
                                       "suppressed"])


def test_distinctive_and_the_biggest_difference_by_hand():
    from gaptools.analysis.cohort import biggest_difference, distinctive

    p = _profile([
        ("KS4", 2025, "all", "all", "disadvantaged", 40, 1.0, False),
        ("KS4", 2025, "all", "all", "other", 60, 1.0, False),
        ("KS4", 2025, "sen", "SEN support", "disadvantaged", 12, 0.30, False),
        ("KS4", 2025, "sen", "SEN support", "other", 6, 0.10, False),
        ("KS4", 2025, "sen", "none", "disadvantaged", 28, 0.70, False),
        ("KS4", 2025, "sen", "none", "other", 51, 0.85, False),
        ("KS4", 2025, "fsm", "yes", "disadvantaged", 30, 0.75, False),  # the definition: never distinctive
        ("KS4", 2025, "fsm", "yes", "other", 0, 0.0, False),
        ("KS4", 2025, "eal", "yes", "disadvantaged", 8, 0.20, False),
        ("KS4", 2025, "eal", "yes", "other", 11, 0.1833, False),  # ratio 1.09: alike
    ])
    top = distinctive(p)
    assert list(top.index) == [("sen", "SEN support")]  # 0.30/0.10 = 3 >= 1.5; 0.70/0.85 = 0.82 > 1/1.5
    score = abs(np.log(0.30 / 0.10)) * np.sqrt(0.30)
    assert top["score"].iloc[0] == pytest.approx(score, rel=1e-6)
    assert biggest_difference(p, "sen") == ("SEN support", 0.30, 0.10)  # 0.2 apart, against 0.15
    withheld = p.assign(suppressed=p["group"] == "other")
    assert distinctive(withheld) is None and biggest_difference(withheld, "sen") is None


@pytest.fixture(scope="module")
def small():
    """A small generated trust (two schools, two years), loaded."""
    import warnings

    from gaptools.io.loading import load_pupils
    from gaptools.io.sample import generate_trust

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_pupils(generate_trust(schools=2, years=2, seed=3))


def test_cohort_sizes_and_the_kept_analysis(small, tmp_path):
    from gaptools.analysis.cache import CACHE

    sid = sorted(small["school_id"].unique())[0]
    a = gaptools.analyse(small, sid, cache=tmp_path)
    mine = small[small["school_id"] == sid]
    for _, r in a.cohorts.iterrows():
        rows = mine[(mine["key_stage"] == r["key_stage"]) & (mine["year"] == r["year"])]
        assert (r["pupils"], r["disadvantaged"]) == (len(rows), int(rows["disadvantaged"].sum()))
    assert a.cohorts["pupils"].sum() == len(mine)
    assert (tmp_path / CACHE).is_file()
    again = gaptools.analyse(small, sid, cache=tmp_path)  # read back, equal to the analysis
    pd.testing.assert_frame_equal(again.gaps, a.gaps)
    other = gaptools.analyse(small, sid, cache=tmp_path, splits=["sex"])  # another choice: another analysis
    assert set(other.gaps["subgroup"].dropna().str.split("=").str[0]) == {"sex"}


def test_the_heatmap_keeps_the_schools_that_matter():
    from gaptools.analysis.trust import heatmap_schools

    matrix = pd.DataFrame({"A8": [0.1, 0.5, 0.3, 0.2, 0.4]}, index=list("abcde"))
    assert heatmap_schools(matrix, "KS4", first=[], standing=set(), most=5) == list("becda")  # largest first
    # above `most`: those standing out always, then the decision list's first, in the gap's order
    assert heatmap_schools(matrix, "KS4", first=["c", "a", "b"], standing={"d"}, most=2) == ["c", "d"]


def test_a_public_table_shows_one_block_a_cohort(small):
    from gaptools.reporting.display import Section

    sid = sorted(small["school_id"].unique())[0]
    gaps = gaptools.analyse(small, sid).gaps
    ks = gaps["key_stage"].iloc[0]
    years = sorted(gaps.loc[gaps["key_stage"] == ks, "year"].unique())
    one = gaptools.tables.measures(gaps[gaps["key_stage"] == ks], threshold=6)
    two = gaptools.tables.measures(gaps, [(ks, years[-1]), (ks, years[0])], threshold=6)
    assert isinstance(one, Section) and len(one) == 1  # the latest year by default, with no heading
    assert len(two) == 4 and f"{years[0] - 1}/{str(years[0])[2:]}" in two[2].data  # a heading a cohort
    rows = gaps[(gaps["key_stage"] == ks) & (gaps["year"] == years[0]) & gaps["subgroup"].isna()]
    assert len(two[3].data) == len(rows)  # every comparison of that year's whole cohort


def test_a_table_says_the_threshold_its_analysis_used(small):
    sid = sorted(small["school_id"].unique())[0]
    a = gaptools.analyse(small, sid, threshold=10)
    words = gaptools.tables.gaps(a.gaps, subgroups=True, comparison=None).data["What it means"]
    too_few = words[words.str.startswith("withheld: too few")]
    assert len(too_few) and too_few.str.endswith("(under 10)").all()
    assert gaptools.tables.gaps(a.gaps, subgroups=True).data.equals(
        gaptools.tables.gaps(a.gaps, subgroups=True, threshold=10).data)


def _priority(ks, year, rank, need, strands):
    approaches = pd.DataFrame({"strand": strands, "months": [5] * len(strands), "cost": [1] * len(strands),
                               "evidence": [4] * len(strands), "tier": ["targeted"] * len(strands),
                               "note": [None] * len(strands)})
    return {"rank": rank, "need": need, "area": need, "score": 1.0 / rank, "year": year, "key_stage": ks,
            "n_disadvantaged": 20, "evidence": f"{need} evidence", "concentrated_in": None,
            "trend": "closing" if rank == 1 else None, "approaches": approaches, "measures": [need]}


def test_page_03s_tables_show_each_cohorts_priorities():
    """gaptools.tables.priorities/approaches: a block a cohort, each showing that cohort's rows of
    gaptools.priorities, and why a cohort has none."""
    prio = pd.DataFrame([_priority("KS2", 2025, 1, "maths", ["Tutoring", "Feedback"]),
                         _priority("KS2", 2025, 2, "literacy", ["Reading"]),
                         _priority("KS4", 2025, 1, "attendance", ["Mentoring"])])
    cohorts = [("KS2", 2025), ("KS4", 2025), ("KS4", 2024)]
    shown = gaptools.tables.priorities(prio, cohorts)
    assert len(shown) == 6  # a heading and a block for each of the three cohorts
    ks2, ks4 = shown[1].data, shown[3].data
    assert list(ks2["Priority"]) == [1, 2] and list(ks2["Area"]) == ["Maths", "Literacy"]
    assert list(ks2["Trend"]) == ["closing", ""] and list(ks4["Area"]) == ["Attendance"]
    assert "no clear gap" in shown[5].data  # no priority, and nothing said of why: the generic words
    sizes = pd.DataFrame({"key_stage": ["KS4"], "year": [2024], "pupils": [30], "disadvantaged": [30]})
    assert "no comparison group" in gaptools.tables.priorities(prio, cohorts, sizes=sizes)[5].data
    gaps = pd.DataFrame({"key_stage": ["KS4"], "year": [2025], "comparison": ["in_school"], "subgroup": [None]})
    assert "No outcome measure" in gaptools.tables.priorities(prio, cohorts, gaps=gaps)[5].data
    ways = gaptools.tables.approaches(prio, cohorts)
    ks2_table = ways[1][-1].data
    assert list(ks2_table["Approach"]) == ["Tutoring", "Feedback", "Reading"]  # each priority's own, in order
    assert list(ks2_table["Priority"]) == [1, 1, 2] and set(ks2_table["Tier"]) == {"2 targeted support"}
    assert list(ways[3][-1].data["Approach"]) == ["Mentoring"]
    assert "No priority" in ways[5].data
    rule = gaptools.tables.weights()
    assert list(rule[1].data["Points"]) == [f"{v:g}" for v in vars(gaptools.Weights()).values()]


def test_priorities_of_several_cohorts_are_each_cohorts(small):
    sid = sorted(small["school_id"].unique())[0]
    a = gaptools.analyse(small, sid)
    pairs = [(ks, int(y)) for ks, y in a.cohorts[["key_stage", "year"]].itertuples(index=False)]
    assert len(pairs) >= 2
    each = [gaptools.priorities(small, sid, key_stage=ks, year=y, gaps=a.gaps) for ks, y in pairs]
    both = gaptools.priorities(small, sid, cohorts=pairs, gaps=a.gaps)
    expected = pd.concat([p for p in each if len(p)], ignore_index=True)  # (this trust: both years have some)
    assert len(each) == 2 and all(len(p) for p in each)
    pd.testing.assert_frame_equal(both.drop(columns="approaches"), expected.drop(columns="approaches"))
    assert all(x.equals(y) for x, y in zip(both["approaches"], expected["approaches"]))
    assert list(both["rank"]) == [*range(1, len(each[0]) + 1), *range(1, len(each[1]) + 1)]  # within its cohort
