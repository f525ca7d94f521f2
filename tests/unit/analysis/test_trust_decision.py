"""The trust's decision list and funnel, on small frames whose answers are worked out here by hand."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from gaptools.analysis.trust import funnel_fit, support_priorities
from gaptools.reporting.trust import stands_out_title


def _row(sid, measure="attainment8", gap=5.0, se=2.0, n_dis=40, n_ref=80, comparison="in_school", clear=True,
         trend=None, key_stage="KS4", year=2025, suppressed=False, trend_from=None):
    return {"school_id": sid, "school_name": f"School {sid}", "key_stage": key_stage, "year": year,
            "measure": measure, "comparison": comparison, "subgroup": None, "gap": gap,
            "ci_low": gap - 1.96 * se, "ci_high": gap + 1.96 * se, "n_disadvantaged": n_dis, "n_reference": n_ref,
            "clear": clear, "trend": trend, "trend_from": trend_from, "suppressed": suppressed, "label": measure,
            "unit": "points", "kind": "score", "gap_unit": "points", "withheld_reason": None}


def test_funnel_says_which_way_each_outlier_lies():
    # every school: pupil SD 15 (se = 15 * sqrt(1/k + 1/2k)), twice as many other pupils as disadvantaged
    sd, gaps, ks = 15.0, [30.0, 9.0, 10.0, 11.0, -12.0, 10.0], [50, 40, 60, 45, 50, 8]
    rows = pd.DataFrame([_row(str(i), gap=g, se=sd * np.sqrt(1 / k + 1 / (2 * k)), n_dis=k, n_ref=2 * k)
                         for i, (g, k) in enumerate(zip(gaps, ks))])
    rows.loc[len(rows)] = _row("w", gap=80.0, n_dis=3, n_ref=6, suppressed=True)  # withheld: not in the funnel
    table, fit = funnel_fit(rows)
    centre = np.average(gaps, weights=ks)
    z = norm.ppf(0.999)
    limit = z * sd * np.sqrt(1 / np.array(ks) + 1 / (2 * np.array(ks)))
    expected = ["larger" if g - centre > lim else "smaller" if centre - g > lim else None
                for g, lim in zip(gaps, limit)]
    assert fit["centre"] == pytest.approx(centre) and fit["sd"] == pytest.approx(sd) and fit["ratio"] == 2
    assert table["limit998"].to_numpy() == pytest.approx(limit, rel=1e-4)
    assert table["stands_out"].tolist() == expected == ["larger", None, None, None, "smaller", None]
    title = stands_out_title(table)
    assert title == "School 0 stands out: its gap is larger than the trust's; School 4: smaller"
    assert stands_out_title(table.assign(stands_out=None)) == "no school's gap stands out from the trust beyond chance"
    assert stands_out_title(table.assign(stands_out=["smaller", "smaller"] + [None] * 4)) == \
        "School 0 and School 1 stand out: their gaps are smaller than the trust's"


def test_decision_list_counts_each_concern_and_ranks_by_concerns_then_pupils():
    rows = [
        # A: two clear gaps, one widening, behind national in one: 4 concerns
        _row("A", "attainment8", trend="widening", trend_from=2023), _row("A", "grade_english"),
        _row("A", "attainment8", comparison="national_other"),
        _row("A", "attainment8", year=2024, gap=50.0),  # an earlier year never counts
        # B: two clear gaps and one not clear, 90 disadvantaged pupils; a clear gap in a non-headline measure
        _row("B", "attainment8", n_dis=90), _row("B", "grade_maths", n_dis=90), _row("B", "grade_english", clear=False),
        _row("B", "grade_art", n_dis=90),
        # C: two clear gaps, 30 pupils (after B: fewer pupils); a subgroup row never counts
        _row("C", "attainment8", n_dis=30), _row("C", "attendance_pct", n_dis=30),
        {**_row("C", "grade_maths", n_dis=30), "subgroup": "low"},
        # D: disadvantaged pupils ahead (a clear negative gap), and a withheld row: no concern
        _row("D", "attainment8", gap=-6.0), _row("D", "grade_english", suppressed=True),
    ]
    t = support_priorities(pd.DataFrame(rows))
    assert t["school_id"].tolist() == ["A", "B", "C"]
    assert t["concerns"].tolist() == [4, 2, 2] and t["rank"].tolist() == [1, 2, 3]
    assert t["disadvantaged_pupils"].tolist() == [40, 90, 30]
    a = t.iloc[0]
    assert a["clear_gaps"] == "Attainment 8, English" and a["widening"] == "Attainment 8"
    assert a["behind_national"] == "Attainment 8" and a["stands_out"] == ""
    assert a["reason"] == ("clear gaps in Attainment 8 and English; widening in Attainment 8 since 2023; "
                           "behind national other pupils in Attainment 8; 40 disadvantaged pupils")
    rows.append(_row("0", "attendance_pct", gap=-3.0, n_dis=200))  # no concern either: by name, not pupils
    every = support_priorities(pd.DataFrame(rows), every_school=True)
    assert every["school_id"].tolist() == ["A", "B", "C", "0", "D"] and every["rank"].iloc[3:].isna().all()
    assert "no clear concern" in every["reason"].iloc[4]


def test_a_school_standing_out_from_the_trust_counts_twice():
    sd = 15.0
    gaps, ks = [40.0, 8.0, 10.0, 9.0, 11.0], [60, 60, 60, 60, 200]
    rows = [_row(str(i), gap=g, se=sd * np.sqrt(1 / k + 1 / (2 * k)), n_dis=k, n_ref=2 * k, clear=False)
            for i, (g, k) in enumerate(zip(gaps, ks))]
    rows.append(_row("4", "attendance_pct", n_dis=200))
    t = support_priorities(pd.DataFrame(rows))
    assert t["school_id"].tolist() == ["0", "4"] and t["concerns"].tolist() == [2, 1]
    assert t["reason"].iloc[0].startswith("gap in Attainment 8 larger than the trust's, beyond chance")


def test_a_funnel_of_many_outliers_names_the_furthest_out_each_way_and_counts_the_rest():
    """At hundreds of schools a dozen may stand out: the title and the chart's labels name the furthest out
    (in 99.8% half-widths from the centre, worked out here by hand), the rest are counted, coloured and in
    the chart's text alternative."""
    from gaptools.reporting.trust_charts import funnel
    from gaptools.reporting.trust_maps import FUNNEL_NAMED

    sd, k = 15.0, 50
    half = norm.ppf(0.999) * sd * np.sqrt(1 / k + 1 / (2 * k))  # every school the same size: same limits
    gaps = [10.0] * 40 + [10 + half * f for f in (1.6, 3.0, 1.8, 2.5, 1.5, 4.0)] + [10 - half * 2.0]
    rows = pd.DataFrame([_row(str(i), gap=g, se=sd * np.sqrt(1 / k + 1 / (2 * k)), n_dis=k, n_ref=2 * k)
                         for i, g in enumerate(gaps)])
    table, fit = funnel_fit(rows)
    centre = np.mean(gaps)
    assert table["beyond"].to_numpy() == pytest.approx(np.abs(np.array(gaps) - centre) / half, rel=1e-4)
    larger = table[table["stands_out"] == "larger"].sort_values("beyond", ascending=False)["school_name"].tolist()
    assert len(larger) == 6 and FUNNEL_NAMED == 4
    assert stands_out_title(table) == (f"{', '.join(larger[:4])} and 2 more stand out: their gaps are larger than "
                                       "the trust's; School 46: smaller")
    chart = funnel(table, sd=fit["sd"], centre=fit["centre"], mark="stands_out", named=FUNNEL_NAMED)
    names = {t.get_text().replace("\n", " ") for t in chart.axes[0].texts}
    assert names == set(larger[:4]) | {"School 46"}
    assert all(f"{n}: " in chart.alt_text for n in larger)  # the text alternative names every one
