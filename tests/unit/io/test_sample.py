"""The committed sample trust: reproducible, realistic, and telling its planted stories."""
import filecmp

from conftest import SAMPLE

from gaptools.io.sample import generate_trust, write_trust


def test_regeneration_is_byte_identical(tmp_path):
    write_trust(generate_trust(), tmp_path)
    committed = sorted(p.name for p in SAMPLE.iterdir())
    assert committed == sorted(p.name for p in tmp_path.iterdir())
    for name in committed:
        assert filecmp.cmp(SAMPLE / name, tmp_path / name, shallow=False), name


def test_shape_of_the_trust(sample_pupils):
    p = sample_pupils
    phases = p.groupby("school_id")["key_stage"].first()
    assert (phases == "KS4").sum() >= 4 and (phases == "KS2").sum() >= 2
    assert p["year"].nunique() == 3
    sizes = p.groupby(["school_id", "year"]).size()
    assert sizes.between(50, 260).all()
    share = p.groupby("school_id")["disadvantaged"].mean()
    assert share.min() <= 0.12 and share.max() >= 0.55
    dis_counts = p.groupby(["school_id", "year"])["disadvantaged"].sum()
    assert (dis_counts < 6).any()  # the small school


def test_disadvantage_correlates_with_prior_attendance_and_sen(sample_pupils):
    p = sample_pupils
    d, o = p[p["disadvantaged"]], p[~p["disadvantaged"]]
    assert d["prior_attainment"].mean() < o["prior_attainment"].mean()
    assert d["attendance_pct"].mean() < o["attendance_pct"].mean()
    assert (d["sen"] != "N").mean() > (o["sen"] != "N").mean()


def test_attainment8_consistent_with_grades(sample_pupils):
    ks4 = sample_pupils[sample_pupils["key_stage"] == "KS4"]
    # English and maths are double weighted and A8 has 10 slots of at most 9
    assert (ks4["attainment8"] >= 2 * ks4["grade_english"] + 2 * ks4["grade_maths"]).all()
    assert (ks4["attainment8"] <= 2 * ks4["grade_english"] + 2 * ks4["grade_maths"] + 54).all()
    grades = ks4[[c for c in ks4.columns if c.startswith("grade_")]]
    assert (ks4["attainment8"] <= grades.fillna(0).sum(axis=1) + ks4["grade_english"]
            + ks4["grade_maths"] + grades["grade_science"].fillna(0)).all()


def test_ks2_has_missing_scores_with_codes(sample_pupils):
    ks2 = sample_pupils[sample_pupils["key_stage"] == "KS2"]
    codes = ks2["reading_score_code"].dropna()
    assert set(codes) <= {"A", "B"} and len(codes) > 0
    assert ks2.loc[codes.index, "reading_score"].isna().all()


def test_no_prior_attainment_for_2025_ks4(sample_pupils):
    ks4 = sample_pupils[sample_pupils["key_stage"] == "KS4"]
    assert ks4.loc[ks4["year"] == 2025, "prior_attainment"].isna().all()
    assert ks4.loc[ks4["year"] == 2024, "prior_attainment"].notna().mean() > 0.9


def _raw_gap(p, school, year, col):
    rows = p[(p["school_id"] == school) & (p["year"] == year)]
    return rows.loc[~rows["disadvantaged"], col].mean() - rows.loc[rows["disadvantaged"], col].mean()


def test_planted_stories_in_raw_means(sample_pupils):
    p = sample_pupils
    # Northfield: English gap about twice the maths gap, every year
    for y in (2023, 2024, 2025):
        ratio = _raw_gap(p, "900101", y, "grade_english") / _raw_gap(p, "900101", y, "grade_maths")
        assert 1.5 < ratio < 3.0, (y, ratio)
    # Riverside closes, Hillcrest widens (A8 points)
    riv = [_raw_gap(p, "900102", y, "attainment8") for y in (2023, 2024, 2025)]
    hil = [_raw_gap(p, "900103", y, "attainment8") for y in (2023, 2024, 2025)]
    assert riv[0] > riv[1] > riv[2] and riv[0] - riv[2] > 10
    assert hil[0] < hil[1] < hil[2] and hil[2] - hil[0] > 8
    # Saint Emile's: no real gap
    assert all(abs(_raw_gap(p, "900104", y, "attainment8")) < 4 for y in (2023, 2024, 2025))


def test_pupil_ids_are_valid_upns(sample_pupils):
    from gaptools.domain.upn import is_valid_upn

    assert all(is_valid_upn(u) for u in sample_pupils["pupil_id"])


def test_every_school_of_a_large_trust_has_its_own_id():
    # Past 100 schools the unplanted ids used to run into the story schools' (school 104 was 900104).
    from gaptools.io.sample import PLANTED, extra_school_id

    trust = generate_trust(schools=105, years=1)
    names = trust.groupby("school_id")["school_name"].nunique()
    assert len(names) == 105 and (names == 1).all()
    planted = {p.school_id for p in PLANTED}
    ids = [extra_school_id(i) for i in range(len(PLANTED) + 1, 25_000)]
    assert len(set(ids)) == len(ids) and not planted & set(ids)
    assert ids[:94] == [f"9{i:05d}" for i in range(7, 101)]  # the ids schools 7-100 always had
