"""The results model (results.json schema version 2): what every page reads."""
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from gaptools.analysis.results import ResultsError, analyse_school, read_results, results_frame, write_results
from gaptools.domain import formatting as fmt


@pytest.fixture(scope="module")
def hillcrest(sample_pupils):
    return analyse_school(sample_pupils, "900103")


def _welch(x, y):
    """Other minus disadvantaged, and its standard error, computed here."""
    return y.mean() - x.mean(), np.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))


def test_trend_verdict_is_the_change_since_the_first_year(sample_pupils, hillcrest):
    t = hillcrest.table
    row = t[(t.measure == "attainment8") & (t.comparison == "in_school") & t.subgroup.isna() & (t.year == 2025)].iloc[0]
    p = sample_pupils[(sample_pupils.school_id == "900103") & sample_pupils.attainment8.notna()]
    figures = {}
    for y in (2023, 2025):
        rows = p[p.year == y]
        figures[y] = _welch(rows[rows.disadvantaged].attainment8.astype(float),
                            rows[~rows.disadvantaged].attainment8.astype(float))
    change = figures[2025][0] - figures[2023][0]
    se = np.hypot(figures[2025][1], figures[2023][1])
    z = sps.norm.ppf(0.975)
    assert row["trend_from"] == 2023
    assert row["trend_change"] == pytest.approx(change, abs=1e-6)
    assert row["trend_ci_low"] == pytest.approx(change - z * se, abs=1e-6)
    assert row["trend_ci_high"] == pytest.approx(change + z * se, abs=1e-6)
    # the verdict follows its interval and false-discovery control
    for _, r in t[t.trend.notna()].iterrows():
        clear = r["trend_q_value"] < 0.05
        expected = ("widening" if clear and r["trend_ci_low"] > 0 else
                    "closing" if clear and r["trend_ci_high"] < 0 else "no clear change")
        assert r["trend"] == expected
    assert row["trend"] == "widening"  # Hillcrest's planted widening Attainment 8 gap


def test_first_year_has_no_trend_and_withheld_rows_show_nothing(hillcrest):
    t = hillcrest.table
    assert t[t.year == 2023].trend.isna().all()
    w = t[t.suppressed]
    assert len(w) and w.gap.isna().all() and w.trend.isna().all() and not w.clear.fillna(False).any()


def test_results_json_v2_round_trip_keeps_version_1_fields(hillcrest, tmp_path):
    path = write_results(tmp_path, hillcrest)
    doc = read_results(path)
    assert doc["schema_version"] == 2
    frame = results_frame(doc)
    g = hillcrest.gaps.reset_index(drop=True)
    assert len(frame) == len(g)
    for col in ("n_disadvantaged", "n_reference"):
        assert (frame[col].fillna(-1).astype(int) == g[col].fillna(-1).astype(int)).all()
    for col in ("gap", "ci_low", "ci_high", "mean_disadvantaged", "mean_reference"):
        assert np.allclose(frame[col].astype(float), g[col].astype(float), atol=1e-5, equal_nan=True)
    assert (frame.suppressed.to_numpy() == g.suppressed.to_numpy()).all()
    # units as people read them: every % measure's gap is in percentage points
    assert set(frame.loc[frame.unit == "%", "gap_unit"]) == {"percentage points"}


def test_reading_rejects_version_1_and_a_broken_row(hillcrest, tmp_path):
    path = write_results(tmp_path, hillcrest)
    doc = json.loads(path.read_text())
    doc["schema_version"] = 1
    path.write_text(json.dumps(doc))
    with pytest.raises(ResultsError, match="version 1.*run `gaptools run` again"):
        read_results(path)
    doc["schema_version"] = 2
    doc["gaps"][0]["trend"] = "getting better"
    path.write_text(json.dumps(doc))
    with pytest.raises(ResultsError, match="trend"):
        read_results(path)
    doc["gaps"][0]["trend"] = None
    withheld = next(r for r in doc["gaps"] if r["suppressed"])
    withheld["gap"] = 1.5  # a withheld row must not carry a figure
    path.write_text(json.dumps(doc))
    with pytest.raises(ResultsError, match="withheld_shows_nothing"):
        read_results(path)


@pytest.mark.parametrize("x, unit, measure, kind, short, expected", [
    (0.123, "%", "basics_4plus", "rate", True, "12 pts"),
    (0.123, "%", "basics_4plus", "rate", False, "12 percentage points"),
    (-0.001, "%", "basics_4plus", "rate", True, "0 pts"),
    (0.01, "%", "basics_4plus", "rate", True, "1 pt"),
    (-2.34, "%", "attendance_pct", "score", False, "-2.3 percentage points"),
    (4.81, "points", "attainment8", "score", True, "4.8 points"),
    (-0.349, "grades", "progress8", "score", True, "-0.35 grades"),
])
def test_one_formatter(x, unit, measure, kind, short, expected):
    assert fmt.amount(x, unit, measure, kind, short=short) == expected


def test_value_and_year_and_reason_words():
    assert fmt.value_text(0.456, "%", "basics_4plus", "rate") == "46%"
    assert fmt.value_text(94.53, "%", "attendance_pct", "score") == "94.5%"
    assert fmt.academic_year(2025) == "2024/25"
    assert fmt.withheld_text("too_few_others", 10) == "withheld: too few other pupils (under 10)"
    assert fmt.withheld_text("protects_another_group", 6) == "withheld to protect another, smaller group"
    assert fmt.withheld_text("no_comparison_group", 6) == "no comparison group in school"
    assert fmt.md_text("<meta http-equiv='refresh'>") == "&lt;meta http-equiv='refresh'&gt;"
    assert fmt.md_text("*Star* [A](x) & Co|") == "\\*Star\\* \\[A\\](x) &amp; Co\\|"
    # no link from data: the Markdown renderer would turn a bare URL into one
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    html = markdown2html_mistune(fmt.md_text('<meta content="0;url=http://127.0.0.1:8099/x">'))
    assert "<a" not in html and "<meta" not in html and "http://127.0.0.1:8099/x" in html
    assert pd.isna(np.nan) and fmt.amount(np.nan, "%", "x", "rate") == ""


def test_a_figure_without_an_interval_says_why():
    """Issue 30: where the values do not vary no interval can be computed; the page says so rather than
    printing '( to )'."""
    assert fmt.with_interval(5.0, 2.0, 8.0, "%", "attendance_pct", "score") == "5.0 pts (2.0 to 8.0)"
    text = fmt.with_interval(5.0, np.nan, np.nan, "%", "attendance_pct", "score")
    assert text.startswith("5.0 pts (no interval") and "to )" not in text and "do not vary" in text


def test_counts_say_one_pupil_and_two_pupils():
    assert (fmt.count(1, "pupil"), fmt.count(2, "pupil"), fmt.count(0, "pupil")) == ("1 pupil", "2 pupils", "0 pupils")
    assert fmt.count(12345, "row") == "12,345 rows"


def test_bidirectional_controls_from_data_are_shown_not_obeyed():
    """A school or subject named with a right-to-left override would show the rest of its line reversed:
    Markdown and every page show the control as a mark instead (review of issue 30's hardening)."""
    name = "Riverside \u202eexe.live\u202c School"
    assert fmt.md_text(name) == "Riverside [U+202E]exe.live[U+202C] School"
    assert fmt.bidi_visible("a\u2066b\u2069") == "a[U+2066]b[U+2069]" and fmt.bidi_visible("Zoë ثابت") == "Zoë ثابت"


def test_the_governors_year_says_the_models_reason_and_reception():
    from gaptools.reporting.governors_year import progress_html

    row = {"level": "year_group", "group": "Reception", "year_group": 0, "subject": "Maths", "drop": "Autumn 1",
           "drop_index": 0,
           "gap": np.nan, "ci_low": np.nan, "ci_high": np.nan, "change_sd": np.nan, "change_ci_low": np.nan,
           "change_ci_high": np.nan, "alert": False, "withheld_reason": "no_comparison_group"}
    text = progress_html(pd.DataFrame([row]), 6)
    assert "Reception Maths, Autumn 1: no comparison group in school" in text and "Year 0" not in text
