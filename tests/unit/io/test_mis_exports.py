"""Real MIS exports in, untouched (issue 26): per-file settings, a mapping for the tracker,
English as the DfE counts it, double science, forms and year groups.

The export sets under tests/data/mis are made by tests/data/mis/make.py in two layouts (SIMS-like
and Arbor-like). Every expected figure here is worked out from the export files themselves with
pandas, never taken from what gaptools printed.
"""
import datetime as dt
import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, gaptools_cli

import gaptools
from gaptools.errors import DataValidationError, GaptoolsWarning

MIS = DATA / "mis"
SIMS, ARBOR = MIS / "sims", MIS / "arbor"
TRACKER = SIMS / "Tracker Y10-Y11.csv"


def _results_folder(tmp_path, layout, pattern):
    """The results exports alone in a folder (as a school keeps them), the tracker left beside."""
    folder = tmp_path / layout.name
    folder.mkdir()
    for f in layout.glob(pattern):
        shutil.copy(f, folder / f.name)
    return folder


def _grade(text: pd.Series) -> pd.Series:
    """A grade column as the DfE counts it, by hand: U is 0, "5-4" and "5/4" the mean of the two."""
    text = text.astype(object).where(text.notna(), "").astype(str).str.strip().str.upper()
    pair = text.str.extract(r"^([0-9U])[-/]([0-9U])$").replace("U", "0").astype(float)
    single = pd.to_numeric(text.replace("U", "0"), errors="coerce").astype(float)
    return single.where(pair[0].isna(), (pair[0] + pair[1]) / 2)


def _quiet_load(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GaptoolsWarning)
        pupils = gaptools.load_pupils(*args, **kwargs)
    return pupils, [str(w.message) for w in caught if issubclass(w.category, GaptoolsWarning)]


@pytest.fixture(scope="module")
def sims_results(tmp_path_factory):
    folder = _results_folder(tmp_path_factory.mktemp("mis"), SIMS, "KS4 Results *.csv")
    return folder, *_quiet_load(folder, SIMS / "results.yaml")


def test_per_file_years_max_of_english_and_double_science(sims_results):
    folder, pupils, notes = sims_results
    expected = []
    for year in (2023, 2024, 2025):
        raw = pd.read_csv(folder / f"KS4 Results {year}.csv", dtype=str)
        raw = raw[~raw["UPN"].str.startswith("Total")]  # the totals row
        expected.append(pd.DataFrame({
            "year": year, "pupil_id": raw["UPN"].to_numpy(),
            "english": np.fmax(_grade(raw["English Language"]), _grade(raw["English Literature"])).to_numpy(),
            "science": _grade(raw["Combined Science"]).to_numpy(),
            "year_group": 11, "form": raw["Reg Group"].to_numpy()}))
    expected = pd.concat(expected, ignore_index=True)
    got = pupils.set_index(["year", "pupil_id"]).loc[list(zip(expected["year"], expected["pupil_id"]))]
    assert len(pupils) == len(expected) == 108
    assert np.array_equal(got["grade_english"].to_numpy(dtype=float), expected["english"].to_numpy())
    assert np.array_equal(got["grade_combined_science"].to_numpy(dtype=float), expected["science"].to_numpy())
    assert (expected["science"] % 1 == 0.5).any()  # some double awards are two different grades
    assert (got["year_group"] == 11).all() and list(got["form"]) == list(expected["form"])
    assert str(pupils["form"].dtype) == "string"
    # one note for the double awards, not an error per row; the totals rows named
    doubles = [n for n in notes if "double award" in n]
    assert len(doubles) == 1 and "108 double awards" in doubles[0]
    assert sum("skipped 1 row" in n for n in notes) == 3


def test_the_validated_copy_keeps_double_awards_year_groups_and_forms(sims_results, tmp_path):
    from gaptools.io.loading import read_validated, save_validated

    _, pupils, _ = sims_results
    back = read_validated(save_validated(pupils, tmp_path / "v.parquet"))
    assert back is not None  # taken as validated: the half grades and new columns pass its checks
    for col in ("grade_combined_science", "year_group", "form"):
        assert back[col].dtype == pupils[col].dtype and back[col].equals(pupils[col])


def test_results_json_figures_equal_a_direct_computation(sims_results, tmp_path):
    """Every whole-cohort in-school figure of the school's results, against pandas on the export files."""
    from gaptools.analysis.results import analyse_school, write_results

    folder, pupils, _ = sims_results
    write_results(tmp_path, analyse_school(pupils, "140001"))
    gaps = json.loads((tmp_path / "results.json").read_text())["gaps"]
    raw = []
    for year in (2023, 2024, 2025):
        r = pd.read_csv(folder / f"KS4 Results {year}.csv", dtype=str)
        raw.append(r[~r["UPN"].str.startswith("Total")].assign(year=year))
    raw = pd.concat(raw, ignore_index=True)
    english = np.fmax(_grade(raw["English Language"]), _grade(raw["English Literature"]))
    maths = _grade(raw["Mathematics"])
    att = pd.to_numeric(raw["Attendance %"])
    direct = pd.DataFrame({
        "year": raw["year"], "dis": raw["Pupil Premium"] == "Yes",
        "grade_english": english, "grade_maths": maths, "grade_combined_science": _grade(raw["Combined Science"]),
        "basics_4plus": ((english >= 4) & (maths >= 4)).astype(float),
        "basics_5plus": ((english >= 5) & (maths >= 5)).astype(float),
        "attainment8": pd.to_numeric(raw["Attainment 8"]), "attendance_pct": att,
        "persistent_absence": (att < 90).astype(float)})
    checked = 0
    for g in gaps:
        if g["comparison"] != "in_school" or g["subgroup"] is not None or g["measure"] not in direct:
            continue
        rows = direct[direct["year"] == g["year"]]
        dis, other = rows.loc[rows["dis"], g["measure"]], rows.loc[~rows["dis"], g["measure"]]
        assert (g["n_disadvantaged"], g["n_reference"]) == (len(dis), len(other))
        assert g["mean_disadvantaged"] == pytest.approx(dis.mean(), abs=1e-6)
        assert g["mean_reference"] == pytest.approx(other.mean(), abs=1e-6)
        checked += 1
    assert checked == 3 * 8


def test_the_english_rule_matters_and_reading_one_column_warns(sims_results, tmp_path):
    """Language alone understates English: the mapping that reads it alone is warned about."""
    folder, pupils, _ = sims_results
    one = tmp_path / "one.yaml"
    one.write_text((SIMS / "results.yaml").read_text().replace(
        'grade_english: {max_of: ["English Language", "English Literature"]}', "grade_english: English Language"))
    alone, notes = _quiet_load(folder, one)
    assert (alone["grade_english"] <= pupils["grade_english"]).all()
    assert (alone["grade_english"] < pupils["grade_english"]).any()
    warned = [n for n in notes if "max_of" in n]
    assert len(warned) == 3 and "English Literature" in warned[0]


def test_arbor_layout_academic_years_in_file_names_and_slashed_double_awards(tmp_path):
    folder = _results_folder(tmp_path, ARBOR, "Arbor KS4 results *.csv")
    pupils, notes = _quiet_load(folder, ARBOR / "results.yaml")
    assert sorted(pupils["year"].unique()) == [2023, 2024]  # 2022-23 is summer 2023
    raw = pd.read_csv(folder / "Arbor KS4 results 2023-24.csv", dtype=str)
    got = pupils[pupils["year"] == 2024].set_index("pupil_id").loc[raw["Student UPN"]]
    assert np.array_equal(got["grade_combined_science"].to_numpy(dtype=float),
                          _grade(raw["GCSE Combined Science"]).to_numpy())
    assert list(got["sen"]) == [{"No SEN": "N", "SEN Support": "K", "EHC Plan": "E"}[s] for s in raw["SEN Need"]]
    assert not [n for n in notes if "matches no file" in n or "more than one" in n]


# ------------------------------------------------------------------ the tracker (current pupils)

def test_tracker_results_year_from_year_group_and_academic_year():
    cur, notes = _quiet_load(TRACKER, SIMS / "tracker.yaml", current=True)
    raw = pd.read_csv(TRACKER, dtype=str)
    group = raw["Year"].str.extract(r"(\d+)")[0].astype(int).to_numpy()
    assert list(cur["year_group"]) == list(group)
    assert list(cur["year"]) == list(np.where(group == 11, 2026, 2027))  # 2025/26: Year 11 sits in 2026
    assert list(cur["form"]) == list(raw["Reg Group"])  # "10E3" stays text
    assert "attainment8" not in cur.columns and any("'attainment8'" in n and "left out" in n for n in notes)
    # without the current flag the same table is refused: the results table needs its year
    with pytest.raises(DataValidationError) as err:
        _quiet_load(TRACKER, SIMS / "tracker.yaml")
    assert any(p.column == "year" for p in err.value.problems)


@pytest.mark.parametrize("today, year11", [(dt.date(2025, 8, 31), 2025), (dt.date(2025, 9, 1), 2026),
                                           (dt.date(2026, 3, 1), 2026)])
def test_without_academic_year_today_gives_it(tmp_path, today, year11):
    f = tmp_path / "t.csv"
    f.write_text("school_id,key_stage,pupil_id,disadvantaged,year_group\n1,KS4,a,yes,Year 11\n1,KS4,b,no,Y10\n"
                 "1,KS2,c,no,6\n1,KS2,d,yes,Yr 5\n")
    cur, _ = _quiet_load(f, current=True, today=today)
    assert list(cur["year"]) == [year11, year11 + 1, year11, year11 + 1]


def test_arbor_tracker_in_excel_by_year_group_and_form():
    cur, _ = _quiet_load(ARBOR / "Arbor tracker.xlsx", ARBOR / "tracker.yaml", current=True)
    raw = pd.read_excel(ARBOR / "Arbor tracker.xlsx", dtype=str)
    assert list(cur["year_group"]) == [int(y[1:]) for y in raw["Year Group"]]
    assert list(cur["year"]) == [2025 if y == "Y11" else 2026 for y in raw["Year Group"]]
    lang, lit = _grade(raw["GCSE English Language Working At"]), _grade(raw["GCSE English Literature Working At"])
    assert np.array_equal(cur["grade_english"].to_numpy(dtype=float), np.fmax(lang, lit).to_numpy())


def test_pupil_list_by_year_group_with_forms_and_results_years(sims_results, tmp_path):
    from gaptools.reporting.school import SchoolReport
    from gaptools.targeting.pupils import staff_list

    folder, pupils, _ = sims_results
    report = SchoolReport(pupils, "140001", current=TRACKER, current_mapping=SIMS / "tracker.yaml",
                          out_dir=tmp_path)
    t = report.targets_data()
    assert set(zip(t["year_group"], t["year"])) == {(11, 2026), (10, 2027)}
    # grouped: every Year 11 (results 2026) first, each group ranked from 1 by need
    assert list(t["year"]) == sorted(t["year"])
    for _, g in t.groupby("year"):
        assert list(g["rank"]) == list(range(1, len(g) + 1))
        assert list(g["score"]) == sorted(g["score"], reverse=True)
    shown = staff_list(t)
    assert {"Year group", "Form", "Results in"} <= set(shown.columns)
    assert set(shown["Form"]) <= set(pd.read_csv(TRACKER, dtype=str)["Reg Group"])
    report.save(targets=True)
    csv = pd.read_csv(tmp_path / "targets.csv", dtype=str)
    assert set(csv["Year group"]) == {"10", "11"} and set(csv["Results in"]) == {"2026", "2027"}


# ------------------------------------------------------------------ bad input: located, no traceback

def _mapping_problems(tmp_path, text):
    m = tmp_path / "m.yaml"
    m.write_text(text)
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(m)
    return err.value.problems


@pytest.mark.parametrize("entry, words", [
    ('{match: "*2023*", constants: {year: "2023"}, year: "2023"}', "unknown key: year"),
    ('{match: ["a", "b"], constants: {year: "2023"}}', "'match' must be a file name pattern"),
    ('{constants: {year: "2023"}}', "is written {match:"),
    ('{match: "*2023*", constants: {yeer: "2023"}}', "'yeer' in 'constants' is not a gaptools column"),
])
def test_bad_files_entries_are_located(tmp_path, entry, words):
    (p,) = _mapping_problems(tmp_path, f"columns:\n  pupil_id: UPN\nfiles:\n  - {entry}\n")
    assert p.line == 3 and p.column == "files" and words in p.message


@pytest.mark.parametrize("spec, words", [
    ('{max_of: ["English Language"]}', "two or more columns"),
    ('{max_of: ["Eng Lang", "eng lang"]}', "same export column twice"),
])
def test_bad_max_of_is_located(tmp_path, spec, words):
    (p,) = _mapping_problems(tmp_path, f"columns:\n  pupil_id: UPN\n  grade_english: {spec}\n")
    assert p.line == 3 and words in p.message
    (p,) = _mapping_problems(tmp_path, 'columns:\n  sex: {max_of: ["A", "B"]}\n')
    assert "only a grade or number column" in p.message


def test_max_of_naming_a_missing_column_is_located(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("UPN,PP,English Language\nA1,Yes,4\n")
    m = tmp_path / "m.yaml"
    m.write_text('columns:\n  pupil_id: UPN\n  disadvantaged: PP\n  grade_english: {max_of: ["English Language", '
                 '"English Literature"]}\nconstants: {school_id: "1", key_stage: KS4, year: "2025"}\n')
    with pytest.raises(DataValidationError) as err:
        _quiet_load(f, m)
    (p,) = err.value.problems
    assert (p.line, p.column) == (1, "English Literature") and "grade_english" in p.message


def test_file_patterns_matching_no_file_or_one_file_twice_warn(tmp_path):
    folder = _results_folder(tmp_path, SIMS, "KS4 Results 202[34].csv")
    m = tmp_path / "m.yaml"
    m.write_text((SIMS / "results.yaml").read_text().replace(
        'skip_rows:', '  - {match: "KS4*2024*", constants: {year: "2030"}}\nskip_rows:'))
    pupils, notes = _quiet_load(folder, m)
    assert sorted(pupils["year"].unique()) == [2023, 2024]  # the first entry that matches wins
    assert any("'*2025*' matches no file" in n for n in notes)
    assert any("KS4 Results 2024.csv: matched by more than one" in n for n in notes)


def test_bad_year_groups_neither_year_nor_year_group_and_two_year_groups(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("school_id,key_stage,pupil_id,disadvantaged,year_group\n1,KS4,a,yes,Year Ten\n1,KS4,b,no,14\n"
                 "1,KS4,c,no,10\n1,KS4,c,no,11\n1,KS4,d,no,\n")
    with pytest.raises(DataValidationError) as err:
        _quiet_load(f, current=True, today=dt.date(2026, 1, 5))
    found = {(p.line, p.column): p for p in err.value.problems}
    assert "is not a year group" in found[(2, "year_group")].message
    assert "between 1 and 13" in found[(3, "year_group")].message
    assert "two year groups" in found[(4, "pupil_id")].message and "line 5" in found[(4, "pupil_id")].message
    assert "two year groups" in found[(5, "pupil_id")].message
    assert "neither 'year' nor 'year_group'" in found[(6, "year")].message
    g = tmp_path / "g.csv"
    g.write_text("school_id,key_stage,pupil_id,disadvantaged,form\n1,KS4,a,yes,10E3\n")
    with pytest.raises(DataValidationError) as err:
        _quiet_load(g, current=True)
    (p,) = err.value.problems
    assert p.line == 1 and "needs 'year'" in p.message and "'year_group'" in p.message


# ------------------------------------------------------------------ the command line

def test_validate_groups_repeated_problems_with_the_fix(tmp_path):
    folder = _results_folder(tmp_path, SIMS, "KS4 Results *.csv")
    m = tmp_path / "m.yaml"
    m.write_text("\n".join(line for line in (SIMS / "results.yaml").read_text().splitlines()
                           if "match:" not in line and not line.startswith("files:")))
    r = gaptools_cli("validate", folder, "--mapping", m)
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr
    out = r.stdout.splitlines()
    year = [line for line in out if "column 'year'" in line]
    assert len(year) == 1 and year[0].startswith("3 files") and "3 times" in year[0]
    fix = r.stdout[r.stdout.index("fix: "):]
    assert 'match: "*2023*", constants: {year: "2023"}' in fix and '"*2025*"' in fix
    assert out[-1] == "INVALID: 3 problems in 3 files"
    # 108 cells out of range: one line with the count, the first lines and the distinct values
    m.write_text((SIMS / "results.yaml").read_text().replace("grade_combined_science: Combined Science",
                                                             "grade_combined_science: KS2 Reading SS"))
    r = gaptools_cli("validate", folder, "--mapping", m)
    raw = pd.concat([pd.read_csv(f, dtype=str) for f in sorted(folder.iterdir())])
    distinct = raw["KS2 Reading SS"].dropna().unique()
    bad = [line for line in r.stdout.splitlines() if "column 'KS2 Reading SS'" in line]
    assert len(bad) == 1 and "108 times" in bad[0] and f"{len(distinct)} distinct values: " in bad[0]
    assert "KS4 Results 2023.csv line 2, " in bad[0] and "and 103 more" in bad[0]
    assert r.stdout.splitlines()[-1] == "INVALID: 108 problems in 3 files"


def test_validate_with_two_mappings(tmp_path):
    folder = _results_folder(tmp_path, SIMS, "KS4 Results *.csv")
    r = gaptools_cli("validate", folder, "--mapping", SIMS / "results.yaml", "--current", TRACKER,
                     "--current-mapping", SIMS / "tracker.yaml")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK: current pupils:" in r.stdout and "Year 10 (30, results in 2027), Year 11 (30, results in 2026)" \
        in r.stdout
    r = gaptools_cli("validate", TRACKER, "--mapping", SIMS / "tracker.yaml")  # as a results table: no year
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr and "column 'year'" in r.stdout


def test_grade_cells_as_trackers_write_them(tmp_path):
    """Working-at grades with a sign read as the whole grade, with a note; "9-1" is no double award."""
    f = tmp_path / "t.csv"
    f.write_text("school_id,key_stage,pupil_id,disadvantaged,year,grade_maths,grade_science\n"
                 "1,KS4,a,yes,2026,5+,5-4\n1,KS4,b,no,2026,4-,U-U\n1,KS4,c,no,2026,6=,4/4\n")
    cur, notes = _quiet_load(f, current=True)
    assert list(cur["grade_maths"]) == [5, 4, 6] and list(cur["grade_science"]) == [4.5, 0, 4]
    assert any("3 working-at grades with a sign" in n for n in notes)
    f.write_text("school_id,key_stage,pupil_id,disadvantaged,year,grade_science\n1,KS4,a,yes,2026,9-1\n"
                 "1,KS4,b,no,2026,5-4\n")
    with pytest.raises(DataValidationError) as err:
        _quiet_load(f)
    (p,) = err.value.problems
    assert (p.line, p.column, p.value) == (2, "grade_science", "9-1") and "at most one apart" in p.message


def test_validate_names_the_fix_for_a_totals_row_a_year_group_column_and_a_missing_english(tmp_path):
    f, m = tmp_path / "export.csv", tmp_path / "m.yaml"
    f.write_text("URN,UPN,PP,Year,English Language,Eng Lit,Maths\n1,A1,Yes,Year 11,4,5,4\n1,A2,No,Year 11,5,6,3\n"
                 "1,A3,No,Year 11,5,6,3\nTotal,,,,,,\n")
    m.write_text("columns:\n  school_id: URN\n  pupil_id: UPN\n  disadvantaged: PP\n  grade_maths: Maths\n"
                 "constants:\n  key_stage: KS4\n")
    r = gaptools_cli("validate", f, "--mapping", m)
    assert r.returncode == 1
    assert 'line 5 looks like a totals row (\'Total\' in \'URN\'): leave it out in the mapping with skip_rows: ' \
        '{column: "URN", matching: "^Total"}' in r.stdout
    assert "fix: column 'Year' holds year groups ('Year 11')" in r.stdout
    assert 'reads no grade_english' in r.stdout and 'max_of: ["English Language", "Eng Lit"]' in r.stdout


def test_a_tracker_with_one_english_column_reads_that_one(tmp_path):
    f, m = tmp_path / "t.csv", tmp_path / "m.yaml"
    f.write_text("UPN,PP,Year,English Language WAG,Maths\nA1,Yes,Year 11,4,5\nA2,No,Y10,5-,3\n")
    m.write_text('columns:\n  pupil_id: UPN\n  disadvantaged: PP\n  year_group: Year\n  grade_english: {max_of: '
                 '["English Language WAG", "English Literature WAG"]}\n  grade_maths: Maths\n'
                 'constants: {school_id: "1", key_stage: KS4, academic_year: "2025/26"}\n')
    cur, notes = _quiet_load(f, m, current=True)
    assert list(cur["grade_english"]) == [4, 5] and list(cur["year"]) == [2026, 2027]
    assert any("no 'English Literature WAG'" in n for n in notes)
    assert any("1 working-at grade with a sign in 'English Language WAG'" in n for n in notes)


def test_files_entries_give_each_school_its_id_and_one_bad_school_stops_no_other(tmp_path):
    from gaptools.batch.validate import validate_by_school

    folder = tmp_path / "exports"
    folder.mkdir()
    head = "UPN,PP,English,Maths\n"
    (folder / "Riverside KS4 2025.csv").write_text(head + "".join(f"R{i},{'Yes' if i % 3 else 'No'},5,4\n"
                                                                 for i in range(8)))
    (folder / "Hillside KS4 2025.csv").write_text(head + "H1,Yes,5,4\nH2,maybe,4,4\n")
    m = tmp_path / "m.yaml"
    m.write_text('columns: {pupil_id: UPN, disadvantaged: PP, grade_english: English, grade_maths: Maths}\n'
                 'constants: {key_stage: KS4, year: "2025"}\nfiles:\n'
                 '  - {match: "Riverside*", constants: {school_id: "140001"}}\n'
                 '  - {match: "Hillside*", constants: {school_id: "150002"}}\n')
    pupils, failures = validate_by_school(folder, m)
    assert list(failures) == ["150002"] and failures["150002"][0].line == 3
    assert len(pupils) == 8 and set(pupils["school_id"]) == {"140001"}
