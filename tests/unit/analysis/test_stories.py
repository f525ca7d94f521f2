"""The sample trust's planted stories (data/sample/README.md) come out of the analysis."""
import json

import gaptools
from gaptools.analysis.gaps import CONTRACT_COLUMNS


def texts(r, year=None, category=None):
    f = r.findings
    if year is not None:
        f = f[f.year == year]
    if category is not None:
        f = f[f.category == category]
    return " ".join(f.text)


def test_english_gap_twice_maths(sample_results):
    r = sample_results["900101"]
    g = r.gaps[(r.gaps.comparison == "in_school") & r.gaps.subgroup.isna() & (r.gaps.year == 2025)].set_index("measure")
    assert 1.6 < g.loc["grade_english", "gap"] / g.loc["grade_maths", "gap"] < 3.0
    assert "about twice their maths gap" in texts(r, 2025, "gap")


def test_closing_and_widening(sample_results):
    assert "The Attainment 8 gap has narrowed" in texts(sample_results["900102"], 2025, "closing")
    assert "The Attainment 8 gap has widened" in texts(sample_results["900103"], 2025, "widening")
    for sid in ("900101", "900104"):
        r = sample_results[sid]
        assert not texts(r, category="closing") and not texts(r, category="widening")


def test_no_gap_school_is_not_flagged(sample_results):
    r = sample_results["900104"]
    assert set(r.findings.category) <= {"no_clear_difference", "context", "too_few", "ahead"}
    assert "No clear difference" in texts(r, 2025)


def test_small_school_is_withheld(sample_results):
    r = sample_results["900202"]
    for year in (2023, 2024):
        assert "Too few disadvantaged pupils" in texts(r, year, "too_few")
        shown = r.gaps[(r.gaps.year == year) & ~r.gaps.suppressed]
        assert shown.empty


def test_results_json_matches_contract(sample_results, tmp_path):
    path = gaptools.write_results(tmp_path, sample_results["900101"])
    doc = json.loads(path.read_text())
    assert list(doc)[:4] == ["schema_version", "school_id", "school_name", "suppression_threshold"]
    assert doc["schema_version"] == 2 and doc["school_id"] == "900101" and doc["suppression_threshold"] == 6
    contract = [c for c in CONTRACT_COLUMNS if c != "school_id"]
    assert all(list(row)[:len(contract)] == contract for row in doc["gaps"])  # extensions come after
    # schema version 2 adds the results model's fields after version 1's
    v2 = {"label", "unit", "gap_unit", "higher_is_better", "trend", "trend_from", "trend_change", "trend_ci_low",
          "trend_ci_high", "trend_q_value", "withheld_reason"}
    assert all(set(row) - set(contract) <= {"clear", "q_value"} | v2 for row in doc["gaps"])
    assert {"key_stage", "year", "value", "suppressed"} <= set(doc["gap_index"][0])
    assert {"key_stage", "year", "measure", "text"} <= set(doc["findings"][0])
    # withheld rows carry nulls for every figure
    small = json.loads(gaptools.write_results(tmp_path / "s", sample_results["900202"]).read_text())
    for row in small["gaps"]:
        if row["suppressed"]:
            assert row["gap"] is None and row["mean_disadvantaged"] is None and row["mean_reference"] is None
