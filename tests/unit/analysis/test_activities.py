"""Did last year's activities work? The activity register, ``activity_impact`` and the review's words.

The estimates are checked on a seeded simulation of hundreds of schools where the pupils
furthest behind (and disadvantaged pupils first) were chosen for an activity, against the
planted effect, and fit by fit against statsmodels and a hand-computed Bell-McCaffrey
degrees of freedom.
"""
import json
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import ACTIVITIES, gaptools_cli
from scipy import stats

import gaptools
from gaptools.errors import DataValidationError, GaptoolsWarning
from gaptools.targeting.review import effect_sentence

PLANTED = 0.5  # grades


def simulate(schools: int, effect: float, seed: int, n: int = 120, k: int = 16):
    """Schools of ``n`` KS4 pupils; in each the ``k`` furthest behind (low prior attainment, disadvantaged
    first) take part in an activity that adds ``effect`` grades. Vectorised over schools."""
    rng = np.random.default_rng(seed)
    shape = (schools, n)
    dis = rng.random(shape) < 0.3
    prior = rng.normal(103, 6, shape) - 4 * dis
    sen = np.where(rng.random(shape) < 0.12, "K", np.where(rng.random(shape) < 0.03, "E", "N"))
    attendance = np.clip(95 - 3 * dis + rng.normal(0, 3, shape), 50, 100)
    grade = 4.5 + 0.22 * (prior - 100) - 0.4 * dis - 0.5 * (sen != "N") + 0.05 * (attendance - 95) \
        + rng.normal(0, 1.1, shape)
    need = -prior + 5 * dis + rng.normal(0, 2, shape)
    taking = np.argsort(np.argsort(-need, axis=1), axis=1) < k
    grade = grade + effect * taking
    sid = np.repeat([f"S{i:04d}" for i in range(schools)], n)
    pid = np.tile([f"P{j:04d}" for j in range(n)], schools)
    pupils = pd.DataFrame({
        "school_id": pd.array(sid, dtype="string"), "school_name": pd.array(sid, dtype="string"),
        "year": pd.array(np.full(sid.size, 2025), dtype="Int64"),
        "key_stage": pd.array(["KS4"] * sid.size, dtype="string"),
        "pupil_id": pd.array(pid, dtype="string"), "disadvantaged": pd.array(dis.ravel(), dtype="boolean"),
        "sen": pd.array(sen.ravel(), dtype="string"), "prior_attainment": pd.array(prior.ravel(), dtype="Float64"),
        "attendance_pct": pd.array(attendance.ravel(), dtype="Float64"),
        "grade_english": pd.array(grade.ravel(), dtype="Float64")})
    t = taking.ravel()
    register = pd.DataFrame({"school_id": sid[t], "pupil_id": pid[t], "activity": "Small-group tutoring",
                             "year": 2025, "measure": "grade_english"})
    return pupils, register


@pytest.fixture(scope="module")
def planted():
    pupils, register = simulate(400, PLANTED, seed=27)
    return pupils, register, gaptools.activity_impact(pupils, register)


@pytest.fixture(scope="module")
def nothing_planted():
    pupils, register = simulate(400, 0.0, seed=2027)
    return gaptools.activity_impact(pupils, register)


def test_estimate_removes_the_selection_bias_a_raw_comparison_has(planted):
    _, _, out = planted
    assert len(out) == 400 and out["withheld_reason"].isna().all()
    assert abs(out["effect"].mean() - PLANTED) < 0.06
    assert abs(out["raw_difference"].mean() - PLANTED) > 1.0  # the pupils chosen were far behind


def test_intervals_cover_the_planted_effect(planted, nothing_planted):
    _, _, out = planted
    for frame, truth in ((out, PLANTED), (nothing_planted, 0.0)):
        covered = ((frame["ci_low"] <= truth) & (truth <= frame["ci_high"])).mean()
        assert 0.92 <= covered <= 0.99, covered


def test_where_nothing_was_planted_few_schools_hear_of_a_clear_effect(nothing_planted, planted):
    assert nothing_planted["clear"].astype(bool).mean() <= 0.07
    assert planted[2]["clear"].astype(bool).mean() > 0.1  # and where it was, the estimate can find it


def _statsmodels_fit(school: pd.DataFrame, taking: np.ndarray):
    """The same regression built by hand: prior attainment and its square, disadvantage, SEN, attendance."""
    prior = school["prior_attainment"].astype(float).to_numpy()
    x = pd.DataFrame({"taking": taking.astype(float), "prior": prior, "prior2": prior ** 2,
                      "dis": school["disadvantaged"].astype(float).to_numpy(),
                      "sen_k": (school["sen"] == "K").astype(float).to_numpy(),
                      "sen_e": (school["sen"] == "E").astype(float).to_numpy(),
                      "attendance": school["attendance_pct"].astype(float).to_numpy()})
    x = x.loc[:, x.std() > 0]
    z = sm.add_constant(x)
    return z.to_numpy(), sm.OLS(school["grade_english"].astype(float).to_numpy(), z).fit(cov_type="HC2", use_t=True)


def test_each_estimate_equals_statsmodels_with_bell_mccaffrey_degrees_of_freedom(planted):
    pupils, register, out = planted
    for sid in ["S0000", "S0123", "S0399"]:
        school = pupils[pupils["school_id"] == sid]
        taking = school["pupil_id"].isin(register.loc[register["school_id"] == sid, "pupil_id"]).to_numpy()
        z, fit = _statsmodels_fit(school, taking)
        row = out[out["school_id"] == sid].iloc[0]
        assert row["effect"] == pytest.approx(fit.params["taking"], abs=1e-9)
        # Bell-McCaffrey: Satterthwaite degrees of freedom of the HC2 variance, from the full n x n matrices
        n = len(z)
        inv = np.linalg.inv(z.T @ z)
        hat = z @ inv @ z.T
        a = (inv @ z.T)[1]
        d = np.diag(a ** 2 / (1 - np.diag(hat)))
        m = np.eye(n) - hat
        df = np.trace(d @ m) ** 2 / np.trace(d @ m @ d @ m)
        half = stats.t.ppf(0.975, df) * fit.bse["taking"]
        assert row["ci_low"] == pytest.approx(fit.params["taking"] - half, abs=1e-9)
        assert row["ci_high"] == pytest.approx(fit.params["taking"] + half, abs=1e-9)
        assert row["n_participants"] == taking.sum() and row["n_comparison"] == (~taking).sum()
        sd = school["grade_english"].astype(float).std()
        assert row["effect_size"] == pytest.approx(fit.params["taking"] / sd)
        power = stats.t.ppf(0.975, df) + stats.t.ppf(0.8, df)
        assert row["mde"] == pytest.approx(power * fit.bse["taking"] / sd)


def _small_trust():
    pupils, register = simulate(3, 0.0, seed=5, n=40, k=10)
    return pupils, register


def test_a_five_pupil_activity_is_withheld_and_a_whole_cohort_one_has_no_comparison():
    pupils, register = _small_trust()
    five = register[register["school_id"] == "S0000"].head(5).assign(activity="Five")
    everyone = pupils[pupils["school_id"] == "S0001"][["school_id", "pupil_id"]].astype(str).assign(
        activity="Whole school", year=2025, measure="grade_english")
    out = gaptools.activity_impact(pupils, pd.concat([register, five, everyone], ignore_index=True))
    row = out[out["activity"] == "Five"].iloc[0]
    assert row["withheld_reason"] == "too_few_participants"
    assert pd.isna(row["n_participants"]) and np.isnan(row["effect"]) and pd.isna(row["clear"])
    whole = out[out["activity"] == "Whole school"].iloc[0]
    assert whole["withheld_reason"] == "no_comparison_group" and whole["n_comparison"] == 0
    assert "no comparison group" in effect_sentence(whole, 6) and "change in the gap" in effect_sentence(whole, 6)
    shown = out[out["withheld_reason"].isna()]
    assert len(shown) == 3 and (shown["n_participants"] == 10).all()


def test_per_protocol_line_counts_pupils_at_70_percent_of_sessions():
    pupils, register = _small_trust()
    reg = register.assign(sessions_planned=10, sessions_attended=np.tile([10, 7, 6, 9, 3], 6))
    out = gaptools.activity_impact(pupils, reg)
    row = out.iloc[0]
    school = pupils[pupils["school_id"] == row["school_id"]]
    mine = reg[reg["school_id"] == row["school_id"]]
    on_plan = set(mine.loc[mine["sessions_attended"] >= 7, "pupil_id"])
    assert row["pp_n"] == len(on_plan)
    keep = ~school["pupil_id"].isin(set(mine["pupil_id"]) - on_plan)
    _, fit = _statsmodels_fit(school[keep], school[keep]["pupil_id"].isin(on_plan).to_numpy())
    assert row["pp_effect"] == pytest.approx(fit.params["taking"], abs=1e-9)
    assert row["effect"] != pytest.approx(row["pp_effect"])  # a secondary line, not the estimate


def test_no_prior_attainment_is_withheld_not_guessed():
    pupils, register = _small_trust()
    pupils["prior_attainment"] = pd.array([pd.NA] * len(pupils), dtype="Float64")
    out = gaptools.activity_impact(pupils, register)
    assert (out["withheld_reason"] == "no_prior_attainment").all() and out["effect"].isna().all()


def test_words_do_not_overclaim():
    row = {"withheld_reason": None, "n_participants": 14, "clear": False, "effect": 0.21, "ci_low": -0.3,
           "ci_high": 0.72, "mde": 0.6, "unit": "grades", "measure": "grade_english", "kind": "score",
           "higher_is_better": True}
    assert effect_sentence(row, 6).startswith(
        "no clear effect; with 14 pupils only an effect above 0.6 SD could have been detected")
    clear = {**row, "clear": True, "effect": 0.4, "ci_low": 0.1, "ci_high": 0.7}
    assert effect_sentence(clear, 6).startswith("a clear effect of +0.4 grades (0.1 to 0.7)")
    absence = {**clear, "measure": "persistent_absence", "unit": "%", "kind": "rate", "higher_is_better": False,
               "effect": -0.08, "ci_low": -0.14, "ci_high": -0.02}
    assert "-8 percentage points (-14 to -2)" in effect_sentence(absence, 6) and "did better" in \
        effect_sentence(absence, 6)


def _register_file(tmp_path, text: str):
    path = tmp_path / "register.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_register_rows_are_located(tmp_path):
    pupils, _ = _small_trust()
    path = _register_file(tmp_path, "\n".join([
        "school_id,pupil_id,activity,year,measure,start,end,sessions_planned,sessions_attended,tier",
        "S0000,P0001,Tutoring,2025,grade_english,2024-10-01,2024-09-01,10,5,targeted",
        "S0000,P0002,Tutoring,2025,grade_english,01/10/2024,20/12/2024,10,12,targeted",
        "S0000,P0003,Tutoring,2025,reading_age,,,,,targeted",
        "S0000,P0004,Tutoring,2023,grade_english,,,,,targeted",
        "S0000,P0005,Tutoring,20x5,grade_english,,,,,tier 9",
    ]) + "\n")
    with pytest.raises(DataValidationError) as err:
        gaptools.load_activities(path, pupils=pupils)
    found = {(p.line, p.column) for p in err.value.problems}
    assert {(2, "end"), (3, "sessions_attended"), (6, "year"), (6, "tier")} <= found
    assert all(p.file == str(path) for p in err.value.problems)
    fixed = path.read_text().replace("2024-09-01", "2024-12-01").replace(",12,targeted", ",8,targeted") \
        .replace("20x5", "2025").replace("tier 9", "wider")
    path.write_text(fixed)
    with pytest.raises(DataValidationError) as err:
        gaptools.load_activities(path, pupils=pupils)
    assert {(p.line, p.column) for p in err.value.problems} == {(4, "measure"), (5, "year")}
    assert "it has: " in str(err.value) and "grade_english" in str(err.value)


def test_register_pupils_not_in_the_pupil_table_are_counted_and_warned(tmp_path):
    pupils, register = _small_trust()
    mapped = register.rename(columns={"pupil_id": "UPN", "activity": "Intervention"}).drop(columns="year")
    mapped.loc[len(mapped)] = ["S0000", "NOT-A-PUPIL", "Small-group tutoring", "grade_english"]
    mapped.loc[len(mapped)] = ["S0000", "P0001", "Next year's tutoring", "grade_english"]
    mapped.to_csv(tmp_path / "register.csv", index=False)
    mapping = {"columns": {"pupil_id": "UPN", "activity": "Intervention"}, "constants": {"year": "2025"}}
    with pytest.warns(GaptoolsWarning, match=r"1 register row names a pupil .*line 32"):
        reg = gaptools.load_activities(tmp_path / "register.csv", mapping, pupils=pupils)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        out = gaptools.activity_impact(pupils, reg)
    row = out[(out["school_id"] == "S0000") & (out["activity"] == "Small-group tutoring")].iloc[0]
    assert row["n_listed"] == 11 and row["n_not_found"] == 1 and row["n_participants"] == 10


def test_run_refuses_a_bad_register_before_any_school_starts(tmp_path):
    pupils, register = _small_trust()
    pupils["grade_english"] = pupils["grade_english"].round().clip(0, 9)  # grades as a results file has them
    pupils.to_csv(tmp_path / "pupils.csv", index=False)
    register.loc[0, "measure"] = "grade_englsh"
    register.to_csv(tmp_path / "register.csv", index=False)
    done = gaptools_cli("run", tmp_path / "pupils.csv", "--out", tmp_path / "out", "--activities",
                        tmp_path / "register.csv", "--quiet")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "register.csv, line 2, column 'measure': value 'grade_englsh'" in done.stderr
    assert not (tmp_path / "out" / "S0000").exists()


def test_the_sample_register_is_reproducible(sample_pupils):
    from gaptools.io.sample_activities import make_activities

    made = make_activities(sample_pupils).to_csv(index=False, lineterminator="\n")
    assert made == ACTIVITIES.read_text(encoding="utf-8")


def test_run_writes_activities_into_results_json_and_part_b_into_strategy(sample_run, sample_pupils):
    out, manifest = sample_run
    folder = out / manifest["schools"]["900101"]["folder"]
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert doc["schema_version"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        expected = gaptools.activity_impact(sample_pupils, ACTIVITIES, school_id="900101")
    got = pd.DataFrame(doc["activities"])
    assert list(got["activity"]) == list(expected["activity"])
    shown = expected["withheld_reason"].isna().to_numpy()
    assert shown.sum() == 2
    assert np.allclose(got.loc[shown, "effect"], expected.loc[shown, "effect"], atol=1e-6)
    assert np.allclose(got.loc[shown, "ci_low"], expected.loc[shown, "ci_low"], atol=1e-6)
    strategy = (folder / "strategy.md").read_text(encoding="utf-8")
    part_b = strategy.split("## Part B: Review of outcomes in the previous academic year", 1)[1]
    assert "Small-group English tutoring" in part_b and "no comparison group" in part_b
    assert "no clear effect; with 30 pupils" in part_b.lower()
    register = pd.read_csv(ACTIVITIES, dtype=str)
    text = (folder / "results.json").read_text() + strategy
    assert not any(pid in text for pid in register["pupil_id"])  # no pupil named
    withheld = [r for r in json.loads((out / manifest["schools"]["900103"]["folder"] / "results.json")
                                      .read_text())["activities"] if r["activity"] == "Maths intervention group"]
    assert withheld[0]["withheld_reason"] == "too_few_participants" and withheld[0]["n_participants"] is None


def test_register_mapping_names_only_register_columns_and_hostile_names_are_escaped():
    from gaptools.io.activities import REGISTER_COLUMNS

    with pytest.raises(DataValidationError, match="is not a column of this table"):
        gaptools.load_mapping({"columns": {"forename": "Name"}}, columns=REGISTER_COLUMNS)
    pupils, register = _small_trust()
    register["activity"] = "<img src=x onerror=alert(1)> *Tutoring* | http://x.example"
    impact = gaptools.activity_impact(pupils, register, school_id="S0000")
    text = gaptools.strategy_statement(pupils, "S0000", activities=impact)
    assert "Tutoring" in text and "<img" not in text and "http://x" not in text
