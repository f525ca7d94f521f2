"""Priorities, target pupils and the strategy draft: planted stories and hand-worked pupils."""
import datetime
import warnings

import pandas as pd

import gaptools
from gaptools.targeting.evidence import approaches_for, evidence_table


def test_evidence_table_has_source_and_as_of():
    t = evidence_table()
    assert {"source", "as_of", "needs", "tier"} <= set(t.columns)
    assert len(t) >= 26 and t["source"].notna().all()


def test_approaches_by_value_and_never_harmful():
    lit = approaches_for("literacy", phase="primary", limit=None)
    assert lit.iloc[0]["strand"] == "Metacognition and self-regulation"  # +8 months at cost 1
    value = (lit["months"] / lit["cost"]).tolist()
    assert value == sorted(value, reverse=True)
    assert (lit["months"] > 0).all()
    allrows = pd.concat([approaches_for(n, limit=None) for n in ("literacy", "maths", "teaching", "attendance")])
    assert not set(allrows["strand"]) & {"Repeating a year", "Setting or streaming", "Learning styles"}
    assert "Phonics" not in set(approaches_for("literacy", phase="secondary", limit=None)["strand"])


def test_english_twice_maths_school_gets_literacy_first(sample_pupils):
    pr = gaptools.priorities(sample_pupils, "900101")
    assert pr.iloc[0]["need"] == "literacy"
    assert "GCSE English grade" in pr.iloc[0]["evidence"] and "95% interval" in pr.iloc[0]["evidence"]
    assert "Reading comprehension strategies" in set(pr.iloc[0]["approaches"]["strand"])


def test_no_gap_and_small_schools_get_no_priority(sample_pupils):
    assert gaptools.priorities(sample_pupils, "900104").empty
    assert gaptools.priorities(sample_pupils, "900202", year=2024).empty


def test_priorities_only_from_clear_gaps(sample_pupils):
    pr = gaptools.priorities(sample_pupils, "900103")
    g = gaptools.gap_table(sample_pupils, school_id="900103", year=2025, detail=True)
    clear = set(g[g.subgroup.isna() & g.clear.fillna(False).astype(bool) & (g.comparison == "in_school")].measure)
    for measures in pr["measures"]:
        assert set(measures) <= clear


def _one_school(rows):
    df = pd.DataFrame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(df)


def test_target_reasons_and_scores_by_hand():
    # the rule: below a bar, 1 point + 1 per further step (a grade; 5 score points; 5 points of
    # attendance; a suspension), at most 4 per measure
    base = {"school_id": "S", "year": 2024, "key_stage": "KS4", "disadvantaged": True, "sen": "N",
            "suspensions": 0, "attendance_pct": 96.0, "grade_english": 6, "grade_maths": 6}
    rows = [
        {**base, "pupil_id": "a", "grade_english": 3},                        # one grade below 4: 1
        {**base, "pupil_id": "b", "attendance_pct": 89.9},                    # 1 + 0.1 / 5 = 1.02
        {**base, "pupil_id": "c", "attendance_pct": 90.0},                    # edge: not below 90
        {**base, "pupil_id": "d", "attendance_pct": 45.0, "suspensions": 4},  # min(1 + 45/5, 4) + min(4, 4) = 8
        {**base, "pupil_id": "e", "sen": "E", "grade_maths": 4},              # at the bar: nothing
        {**base, "pupil_id": "f", "grade_maths": 2},                          # two grades below: 2
        {**base, "pupil_id": "g", "disadvantaged": False, "grade_english": 3},
        {**base, "pupil_id": "h", "grade_english": 3, "grade_maths": 5},      # ties with a: by pupil id
    ]
    t = gaptools.target_pupils(_one_school(rows), "S")
    got = dict(zip(t.pupil_id, t.score))
    assert got == {"d": 8.0, "f": 2.0, "a": 1.0, "h": 1.0, "b": 1.02}
    assert t.pupil_id.tolist() == ["d", "f", "b", "a", "h"]  # ties (a, h) broken by pupil id
    reasons = dict(zip(t.pupil_id, t.reasons))
    assert reasons["a"] == "English grade 3: 1 below a standard pass"
    assert reasons["b"] == "attendance 89.9%: 0.1 points below 90%"
    assert reasons["d"] == "attendance 45.0%: 45.0 points below 90% (severely absent); 4 suspensions"
    assert "g" not in got
    everyone = gaptools.target_pupils(_one_school(rows), "S", all_pupils=True)
    assert set(everyone.pupil_id) == {"a", "b", "d", "f", "g", "h"}


def test_ks2_distance_below_the_expected_standard():
    base = {"school_id": "P", "year": 2025, "key_stage": "KS2", "disadvantaged": True, "maths_score": 105}
    rows = [{**base, "pupil_id": p, "reading_score": s} for p, s in
            (("a", 94), ("b", 95), ("c", 99), ("d", 100), ("e", 80))]
    t = gaptools.target_pupils(_one_school(rows), "P")
    # 1 + (100 - score - 1) / 5, at most 4: e 4.0, a 2.0, b 1.8, c 1.0; d is at the standard
    assert dict(zip(t.pupil_id, t.score)) == {"e": 4.0, "a": 2.0, "b": 1.8, "c": 1.0}
    assert t.pupil_id.tolist() == ["e", "a", "b", "c"]
    assert t.reasons.tolist()[2:] == ["reading 95: 5 below the expected 100", "reading 99: 1 below the expected 100"]


def test_targets_are_this_schools_pupils_only(sample_pupils):
    t = gaptools.target_pupils(sample_pupils, "900101")
    mine = set(sample_pupils[sample_pupils.school_id == "900101"].pupil_id)
    assert len(t) > 0 and set(t.pupil_id) <= mine


def test_school_with_no_disadvantaged_pupils():
    rows = [{"school_id": "S", "year": 2025, "key_stage": "KS4", "pupil_id": f"p{i}", "disadvantaged": False,
             "grade_english": 3, "grade_maths": 4} for i in range(10)]
    p = _one_school(rows)
    assert gaptools.target_pupils(p, "S").empty
    assert gaptools.priorities(p, "S").empty
    text = gaptools.strategy_statement(p, "S", today=datetime.date(2026, 1, 1))
    assert "Draft for the school to edit" in text and "no clear gap" in text


def test_strategy_statement_shape(sample_pupils, tmp_path):
    text = gaptools.strategy_statement(sample_pupils, "900101", today=datetime.date(2026, 11, 23))
    for heading in ("## School overview", "## Statement of intent", "## Challenges", "## Intended outcomes",
                    "### High-quality teaching", "### Targeted academic support", "### Wider strategies",
                    "## Part B: Review of outcomes in the previous academic year"):
        assert heading in text
    assert "Draft for the school to edit" in text
    g = gaptools.gap_table(sample_pupils, school_id="900101", year=2025, measures=["grade_english"], subgroups=())
    gap = g[g.comparison == "in_school"].gap.iloc[0]
    assert f"falls from {gap:.1f} grades in 2025 to {gap * 2 / 3:.1f} grades or less by 2028" in text
    files = gaptools.write_targeting_outputs(tmp_path, "900101", gaptools.target_pupils(sample_pupils, "900101"), text)
    assert [f.name for f in files] == ["targets.csv", "targets.xlsx", "strategy.md"]
    assert pd.read_csv(files[0], dtype=str).UPN.isin(sample_pupils[sample_pupils.school_id == "900101"].pupil_id).all()
