"""gap_table against direct computation, suppression, and planted gaps."""
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep

import gaptools
from gaptools.analysis.gaps import CONTRACT_COLUMNS


def make_pupils(spec, seed=0):
    """spec: list of (school_id, n_dis, n_other, gap_in_sd); A8 SD 15, grades SD 1.5."""
    rng = np.random.default_rng(seed)
    rows = []
    for sid, n_dis, n_oth, gap in spec:
        for dis, n in ((True, n_dis), (False, n_oth)):
            shift = -gap if dis else 0.0
            eng = np.clip(np.round(4.5 + 1.5 * (rng.normal(0, 1, n) + shift)), 0, 9)
            mat = np.clip(np.round(4.5 + 1.5 * (rng.normal(0, 1, n) + shift)), 0, 9)
            a8 = np.clip(45 + 15 * (rng.normal(0, 1, n) + shift), 0, 90).round(1)
            att = np.clip(94 + 4 * rng.normal(0, 1, n), 40, 100).round(1)
            for i in range(n):
                rows.append({"school_id": sid, "year": 2025, "key_stage": "KS4",
                             "pupil_id": f"{sid}-{dis}-{i}", "disadvantaged": dis,
                             "sex": "F" if i % 2 else "M", "attainment8": a8[i],
                             "grade_english": int(eng[i]), "grade_maths": int(mat[i]),
                             "attendance_pct": att[i]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(pd.DataFrame(rows))


def whole(g, sid, measure, comparison="in_school"):
    r = g[(g.school_id == sid) & (g.measure == measure) & (g.comparison == comparison) & g.subgroup.isna()]
    assert len(r) == 1
    return r.iloc[0]


def test_contract_columns_exactly():
    g = gaptools.gap_table(make_pupils([("A", 20, 30, 0.5)]))
    assert list(g.columns) == CONTRACT_COLUMNS


def test_score_gap_matches_direct_welch():
    p = make_pupils([("A", 35, 80, 0.6)])
    g = gaptools.gap_table(p)
    row = whole(g, "A", "attainment8")
    d = p.loc[p.disadvantaged, "attainment8"].astype(float).to_numpy()
    o = p.loc[~p.disadvantaged, "attainment8"].astype(float).to_numpy()
    t = sps.ttest_ind(o, d, equal_var=False)
    ci = t.confidence_interval(0.95)
    assert row.n_disadvantaged == 35 and row.n_reference == 80
    assert row.mean_disadvantaged == pytest.approx(d.mean()) and row.mean_reference == pytest.approx(o.mean())
    assert row.gap == pytest.approx(o.mean() - d.mean())
    assert row.ci_low == pytest.approx(ci.low) and row.ci_high == pytest.approx(ci.high)
    assert bool(row.significant) == (ci.low > 0 or ci.high < 0)


def test_rate_gap_matches_newcombe():
    p = make_pupils([("A", 40, 90, 0.5)])
    g = gaptools.gap_table(p)
    row = whole(g, "A", "basics_4plus")
    d = p.loc[p.disadvantaged, "basics_4plus"].astype(bool)
    o = p.loc[~p.disadvantaged, "basics_4plus"].astype(bool)
    lo, hi = confint_proportions_2indep(o.sum(), len(o), d.sum(), len(d), method="newcomb", compare="diff")
    assert row.mean_disadvantaged == pytest.approx(d.mean())
    assert row.gap == pytest.approx(o.mean() - d.mean())
    assert row.ci_low == pytest.approx(lo) and row.ci_high == pytest.approx(hi)


def test_lower_is_better_sign_flip():
    p = make_pupils([("A", 40, 90, 0.0)], seed=5)
    g = gaptools.gap_table(p)
    row = whole(g, "A", "persistent_absence")
    d = p.loc[p.disadvantaged, "persistent_absence"].astype(float).mean()
    o = p.loc[~p.disadvantaged, "persistent_absence"].astype(float).mean()
    assert row.gap == pytest.approx(d - o)  # positive when disadvantaged are absent more
    assert row.ci_low <= row.gap <= row.ci_high


def test_interval_width_is_t_times_se():
    p = make_pupils([("A", 30, 60, 0.5)], seed=2)
    g = gaptools.gap_table(p, detail=True)
    row = whole(g, "A", "grade_english")
    d = p.loc[p.disadvantaged, "grade_english"].astype(float)
    o = p.loc[~p.disadvantaged, "grade_english"].astype(float)
    va, vb = d.var() / len(d), o.var() / len(o)
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(d) - 1) + vb ** 2 / (len(o) - 1))
    assert row.ci_high - row.ci_low == pytest.approx(2 * sps.t.ppf(0.975, df) * se)


def test_national_other_progress8_uses_dfe_method():
    df = pd.DataFrame({"school_id": "A", "year": 2024, "key_stage": "KS4",
                       "pupil_id": [f"p{i}" for i in range(40)], "disadvantaged": [i < 20 for i in range(40)],
                       "progress8": np.linspace(-1.5, 1.0, 40).round(2)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = gaptools.load_pupils(df)
    g = gaptools.gap_table(p)
    row = whole(g, "A", "progress8", "national_other")
    mean_dis = df.loc[df.disadvantaged, "progress8"].mean()
    assert row.mean_reference == pytest.approx(0.16)        # national other pupils, 2023/24
    assert row.gap == pytest.approx(0.16 - mean_dis)
    half = 1.959964 * 1.41628 / np.sqrt(20)
    assert row.ci_low == pytest.approx(0.16 - mean_dis - half, abs=1e-5)
    assert pd.isna(row.n_reference)


@pytest.mark.parametrize("n_dis", [1, 2, 3, 4, 5])
def test_small_groups_are_withheld(n_dis):
    p = make_pupils([("A", n_dis, 40, 0.5)])
    g = gaptools.gap_table(p)
    rows = g[g.school_id == "A"]
    assert rows.suppressed.all()
    for col in ("mean_disadvantaged", "mean_reference", "gap", "ci_low", "ci_high", "n_disadvantaged"):
        assert rows[col].isna().all(), col


def test_threshold_is_a_parameter():
    p = make_pupils([("A", 7, 40, 0.5)])
    assert not gaptools.gap_table(p).query("subgroup.isna()").suppressed.any()
    assert gaptools.gap_table(p, threshold=8).query("subgroup.isna()").suppressed.all()


def test_secondary_suppression_blocks_the_derivation_attack():
    # 9 disadvantaged: 4 girls (withheld) and 5 boys (withheld), or with 3/6 the
    # shown whole and boys would give the girls' mean: complementary suppression.
    p = make_pupils([("A", 9, 60, 0.5)], seed=4)
    p.loc[p.disadvantaged, "sex"] = ["F"] * 3 + ["M"] * 6
    g = gaptools.gap_table(p, subgroups=("sex",))
    for measure, rows in g[g.comparison == "in_school"].groupby("measure"):
        w = rows[rows.subgroup.isna()].iloc[0]
        cells = rows[rows.subgroup.notna()]
        assert not w.suppressed
        assert cells.suppressed.sum() in (0, 2), measure
        shown = cells[~cells.suppressed]
        # the attack: whole minus shown cells recovers a withheld cell exactly
        if len(shown) == len(cells) - 1:
            pytest.fail("one withheld cell beside a shown whole is recoverable")
    girls = p[p.disadvantaged & (p.sex == "F")]
    assert len(girls) == 3


def test_planted_gaps_found_and_null_schools_not_flagged():
    planted = [(f"P{i}", 30 + 5 * i, 90, 0.5) for i in range(6)]
    null = [(f"N{i}", 30 + 5 * i, 90, 0.0) for i in range(6)]
    p = make_pupils(planted + null, seed=11)
    g = gaptools.gap_table(p, detail=True)
    w = g[g.subgroup.isna() & (g.comparison == "in_school")]
    # Power for d = 0.5 with 30-55 pupils is roughly 65-85% per measure (not 100%:
    # sampling noise can hide a real gap); with three planted measures per school
    # at least five of the six schools must be found.
    found = [sid for sid, *_ in planted
             if {"attainment8", "grade_english", "grade_maths"}
             & set(w[(w.school_id == sid) & w.clear.fillna(False).astype(bool)].measure)]
    assert len(found) >= 5, found
    # FDR control: no school without a planted gap is flagged on any measure
    flagged = w[w.school_id.str.startswith("N") & w.clear.fillna(False).astype(bool)]
    assert flagged.empty, flagged[["school_id", "measure", "gap", "q_value"]]


def test_large_planted_gaps_always_found():
    # d = 0.8 with 40+ pupils: power above 99% per measure
    p = make_pupils([(f"P{i}", 40 + 10 * i, 100, 0.8) for i in range(5)], seed=12)
    w = gaptools.gap_table(p, detail=True).query("subgroup.isna() and comparison == 'in_school'")
    for i in range(5):
        clear = set(w[(w.school_id == f"P{i}") & w.clear.fillna(False).astype(bool)].measure)
        assert {"attainment8", "grade_english", "grade_maths"} <= clear, (i, clear)


def test_value_added_is_outcome_minus_group_mean():
    rows = []
    for i, (prior, a8) in enumerate([(100, 40), (100, 50), (100.5, 30), (112, 70), (112, 60)]):
        rows.append({"school_id": "A", "year": 2024, "key_stage": "KS4", "pupil_id": f"p{i}",
                     "disadvantaged": i % 2 == 0, "prior_attainment": prior, "attainment8": a8})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = gaptools.load_pupils(pd.DataFrame(rows))
    va = gaptools.value_added(p, ["attainment8"])["va_attainment8"].tolist()
    # groups: 100 -> group 14 (99.5 to 100), 100.5 -> group 15, 112 -> group 26
    assert va == pytest.approx([-5, 5, 0, 5, -5])
    # against another reference population: one school's pupils scored by the whole trust's
    # expectations; a pupil whose group the reference lacks, or who has no prior score, gets none
    ref = pd.concat([p, p.assign(school_id="B", attainment8=p["attainment8"] + 10)], ignore_index=True)
    own = pd.concat([p.iloc[:2], p.iloc[:1].assign(pupil_id="q", prior_attainment=90.0),
                     p.iloc[:1].assign(pupil_id="r", prior_attainment=pd.NA)], ignore_index=True)
    va = gaptools.value_added(own, ["attainment8"], reference=ref)["va_attainment8"].tolist()
    # group 14's reference mean: (40 + 50 + 50 + 60) / 4 = 50
    assert va[:2] == pytest.approx([-10, 0])
    assert np.isnan(va[2]) and np.isnan(va[3])


def test_progress8_derived_from_dfe_table(tmp_path):
    import csv

    from conftest import DATA
    # The DfE's own file as published (tests/data/dfe_ks4_p8_estimates_2024/PROVENANCE.md), not the shipped copy
    table = list(csv.reader(open(DATA / "dfe_ks4_p8_estimates_2024/p8_att8_splits.csv",
                                 encoding="utf-8-sig")))[1:]
    est = {int(r[0]): float(r[2]) for r in table}
    pupils = [(100.0, 45.0, 14), (82.0, 20.0, 1), (82.5, 20.0, 2), (110.0, 60.0, 24), (120.0, 88.0, 34),
              (104.5, 45.12, 19)]
    df = pd.DataFrame({"school_id": "A", "year": 2024, "key_stage": "KS4",
                       "pupil_id": [f"p{i}" for i in range(len(pupils))], "disadvantaged": False,
                       "prior_attainment": [x[0] for x in pupils], "attainment8": [x[1] for x in pupils]})
    p = gaptools.load_pupils(df)
    for got, (prior, a8, group) in zip(p["progress8"], pupils):
        assert got == pytest.approx((a8 - est[group]) / 10), (prior, group)


def test_no_progress8_for_cohorts_without_ks2():
    df = pd.DataFrame({"school_id": "A", "year": [2025, 2026], "key_stage": "KS4", "pupil_id": ["a", "b"],
                       "disadvantaged": False, "prior_attainment": [100, 100], "attainment8": [40, 40]})
    with pytest.warns(gaptools.GaptoolsWarning, match="no Progress 8"):
        p = gaptools.load_pupils(df)
    assert p["progress8"].isna().all()


def test_every_row_of_a_many_school_table_matches_a_direct_computation():
    """All schools, all subgroups: counts, means, SDs and intervals recomputed pupil by pupil."""
    rng = np.random.default_rng(11)
    n = 40 * 70
    school = np.repeat([f"S{i:02d}" for i in range(40)], 70)
    dis = rng.random(n) < rng.uniform(0.1, 0.6, 40)[np.repeat(np.arange(40), 70)]
    att = np.clip(95 - rng.gamma(1.5, 3, n) - 3 * dis, 40, 100).round(1)
    att[:70][~dis[:70]] = 100.0  # a school whose other pupils all attended fully: constant group
    frame = pd.DataFrame({
        "school_id": school, "year": 2024, "key_stage": "KS4", "pupil_id": [f"p{i}" for i in range(n)],
        "disadvantaged": dis, "sex": np.where(rng.random(n) < 0.5, "F", "M"),
        "sen": rng.choice(["N", "K", "E"], n, p=[0.8, 0.15, 0.05]),
        "prior_attainment": np.clip(np.round((104 + 6 * rng.normal(size=n) - 2 * dis) * 2) / 2, 80, 120),
        "attendance_pct": att,
        "attainment8": np.clip(45 + 15 * rng.normal(size=n) - 6 * dis, 0, 90).round(1),
        "grade_english": np.clip(np.round(4.5 + 1.5 * rng.normal(size=n) - 0.5 * dis), 0, 9).astype(int),
        "grade_maths": np.clip(np.round(4.5 + 1.5 * rng.normal(size=n) - 0.5 * dis), 0, 9).astype(int),
    })
    frame.loc[rng.random(n) < 0.05, "grade_maths"] = None  # missing grades are left out, not zero
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = gaptools.load_pupils(frame)
    g = gaptools.gap_table(p, national=False, progress=False, detail=True)
    shown = g[~g.suppressed]
    assert len(shown) > 1000 and g.suppressed.any()
    band = pd.cut(p["prior_attainment"].astype(float), [-np.inf, 100, 110, np.inf], right=False,
                  labels=["low", "middle", "high"]).astype(object)
    split_values = {"sex": p["sex"].astype(object), "sen": p["sen"].astype(object), "prior_band": band,
                    "persistent_absence": p["persistent_absence"].astype(object).map(str)}
    # the pupils as plain arrays, each school's positions found once (pandas indexing row by row took seconds)
    split_values = {k: v.to_numpy(dtype=object) for k, v in split_values.items()}
    schools = p["school_id"].to_numpy(dtype=object)
    of_school = {s: np.flatnonzero(schools == s) for s in np.unique(schools)}
    flags = p["disadvantaged"].to_numpy(dtype=bool)
    values = {}
    checked = {"score": 0, "rate": 0, "constant": 0}
    for row in shown.itertuples():
        rows = of_school[row.school_id]
        if isinstance(row.subgroup, str):
            split, value = row.subgroup.split("=", 1)
            rows = rows[split_values[split][rows] == value]
        if row.measure not in values:
            values[row.measure] = p[row.measure].astype("float64").to_numpy()
        x, flag = values[row.measure][rows], flags[rows]
        d, o = x[flag], x[~flag]
        d, o = d[~np.isnan(d)], o[~np.isnan(o)]
        assert (row.n_disadvantaged, row.n_reference) == (len(d), len(o))
        assert row.mean_disadvantaged == pytest.approx(d.mean(), rel=1e-12, abs=1e-12)
        assert row.mean_reference == pytest.approx(o.mean(), rel=1e-12, abs=1e-12)
        assert row.sd_disadvantaged == pytest.approx(d.std(ddof=1), rel=1e-9, abs=1e-12)
        assert row.sd_reference == pytest.approx(o.std(ddof=1), rel=1e-9, abs=1e-12)
        if row.kind == "score" and o.min() == o.max():
            assert row.sd_reference == 0.0 and row.mean_reference == o[0]  # exactly: no spread at all
            checked["constant"] += 1
        sign = 1 if row.higher_is_better else -1
        if row.kind == "score":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scipy warns on the constant group
                t = sps.ttest_ind(o, d, equal_var=False)
            lo, hi = sorted(sign * np.array(t.confidence_interval(0.95)))
        else:
            lo, hi = sorted(sign * np.array(confint_proportions_2indep(o.sum(), len(o), d.sum(), len(d),
                                                                       method="newcomb", compare="diff")))
        checked[row.kind] += 1
        assert row.ci_low == pytest.approx(lo, rel=1e-9, abs=1e-12)
        assert row.ci_high == pytest.approx(hi, rel=1e-9, abs=1e-12)
    assert checked["score"] > 500 and checked["rate"] > 200 and checked["constant"] >= 1


def test_a_count_a_rate_gives_is_shown_on_page_01_too():
    """Issues 29 and 30: one rule across pages 01 and 02. Of 9 disadvantaged pupils 5 are persistently
    absent: page 02 shows the rate of the 9 (as the DfE publishes rates of groups of 6 or more), which
    gives the 5, so page 01 shows the 5 too, rather than withholding on one page what the other gives."""
    from gaptools.analysis.profile import cohort_profile

    p = make_pupils([("A", 9, 60, 0.0)], seed=4)
    dis = p.index[p.disadvantaged]
    p["attendance_pct"] = 97.0
    p.loc[dis[:5], "attendance_pct"] = 85.0  # 5 of the 9 below 90%
    p["persistent_absence"] = (p["attendance_pct"] < 90).astype("boolean")
    g = gaptools.gap_table(p, subgroups=(), detail=True)
    pa = g[(g.measure == "persistent_absence") & g.subgroup.isna() & (g.comparison == "in_school")]
    assert not pa.suppressed.any() and round(pa.mean_disadvantaged.iloc[0] * pa.n_disadvantaged.iloc[0]) == 5
    prof = cohort_profile(p)
    band = prof[(prof.characteristic == "attendance") & (prof.group == "disadvantaged")
                & prof.value.str.startswith("50% to 90%")]
    assert not band.suppressed.any() and int(band.n.iloc[0]) == 5  # the same 5 pupils, on page 01 too
    # without the gap table beside it (the pupils on roll now, whose gaps no page shows) 5 stays withheld
    alone = cohort_profile(p, gaps=False)
    band = alone[(alone.characteristic == "attendance") & (alone.group == "disadvantaged")
                 & alone.value.str.startswith("50% to 90%")]
    assert band.suppressed.all()
