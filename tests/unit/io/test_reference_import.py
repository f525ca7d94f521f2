"""`gaptools reference import`: DfE statistics-service files (both indicator namings) to national comparisons.

The files are written here in the service's tidy layout; every expected figure
is the one typed into the file (percentages divided by 100 by hand).
"""
import math
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import gaptools
from gaptools.cli import main
from gaptools.domain.reference import (
    national_figures,
    set_reference_dir,
    user_reference_dir,
)
from gaptools.errors import DataValidationError
from gaptools.io.dfe_statistics import import_national_files, read_national_file

GEO = "time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,version"
KS4_NEW = (GEO + ",breakdown_topic,breakdown,disadvantage_status,establishment_type_group,pupil_count,"
           "attainment8_average,engmath_94_percent,engmath_95_percent,progress8_average\n"
           "202526,Academic year,National,E92000001,England,,,Provisional,Total,Total,Total,All state-funded,"
           "600000,46.1,65.0,45.5,z\n"
           "202526,Academic year,National,E92000001,England,,,Provisional,Disadvantage status,Disadvantaged,"
           "Disadvantaged,All state-funded,150000,36.2,44.9,26.1,z\n"
           "202526,Academic year,National,E92000001,England,,,Provisional,Disadvantage status,"
           "Disadvantaged all other,Disadvantaged all other,All state-funded,450000,51.0,73.5,53.9,z\n"
           "202526,Academic year,National,E92000001,England,,,Provisional,Sex,Boys,Total,All state-funded,"
           "300000,43.9,62.0,42.0,z\n"
           "202526,Academic year,National,E92000001,England,,,Provisional,Disadvantage status,Disadvantaged,"
           "Disadvantaged,Special,5000,8.1,c,c,z\n"
           "202526,Academic year,Regional,E92000001,England,E12000001,North East,Provisional,Disadvantage status,"
           "Disadvantaged,Disadvantaged,All state-funded,9000,33.0,40.1,c,z\n"
           "202526,Academic year,Regional,E92000001,England,E12000007,London,Provisional,Total,Total,Total,"
           "All state-funded,80000,50.2,70.0,52.0,z\n")
KS4_OLD = (GEO + ",breakdown_topic,breakdown,disadvantage_status,t_pupils,avg_att8,pt_l2basics_94,"
           "pt_l2basics_95,avg_p8score\n"
           "202324,Academic year,National,E92000001,England,,,Revised,Total,Total,Total,610000,45.9,64.8,c,x\n"
           "202324,Academic year,National,E92000001,England,,,Revised,Disadvantage status,Disadvantaged,"
           "Disadvantaged,155000,34.6,43.3,26.0,-0.57\n"
           "202324,Academic year,National,E92000001,England,,,Revised,Disadvantage status,Disadvantaged all other,"
           "Disadvantaged all other,455000,50.0,72.6,53.1,0.16\n"
           "202324,Academic year,Local authority,E92000001,England,E12000004,East Midlands,Revised,Total,Total,"
           "Total,4000,44.0,low,u,0.01\n")
KS2_NEW = (GEO + ",breakdown_topic,breakdown,disadvantage_status,subject,expected_standard_pupil_percent,"
           "higher_standard_pupil_percent\n"
           "202526,Academic year,National,E92000001,England,,,Provisional,Total,Total,Total,"
           "\"Reading, writing and maths\",63,low\n"
           "202526,Academic year,National,E92000001,England,,,Provisional,Disadvantage status,Disadvantaged,"
           "Disadvantaged,\"Reading, writing and maths\",48,u\n"
           "202526,Academic year,National,E92000001,England,,,Provisional,Disadvantage status,"
           "Disadvantaged all other,Disadvantaged all other,\"Reading, writing and maths\",70,10\n"
           "202526,Academic year,National,E92000001,England,,,Provisional,Disadvantage status,Disadvantaged,"
           "Disadvantaged,Reading,62,21\n"
           "202526,Academic year,Regional,E92000001,England,E12000001,North East,Provisional,Total,Total,Total,"
           "\"Reading, writing and maths\",60,7\n")
KS2_OLD = ("time_period,time_identifier,geographic_level,country_code,country_name,breakdown_topic,breakdown,"
           "disadvantage_status,pt_rwm_met_expected_standard,pt_rwm_met_higher_standard\n"
           "202223,Academic year,National,E92000001,England,Total,Total,Total,60,8\n"
           "202223,Academic year,National,E92000001,England,Disadvantage status,Disadvantaged,Disadvantaged,44,3\n"
           "202223,Academic year,National,E92000001,England,Disadvantage status,Disadvantaged all other,"
           "Disadvantaged all other,66,10\n")


@pytest.fixture(autouse=True)
def user_folder(tmp_path, monkeypatch):
    folder = tmp_path / "reference"
    monkeypatch.setenv("GAPTOOLS_REFERENCE_DIR", str(folder))
    set_reference_dir(None)
    return folder


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def figures(frame):
    return {(r.key_stage, r.year, r.measure, r.group): r.value for r in frame.itertuples()}


def test_2024_25_naming(tmp_path):
    got = read_national_file(write(tmp_path, "ks4_202526.csv", KS4_NEW), imported="2026-11-01")
    f = figures(got.figures)
    assert f[("KS4", 2026, "attainment8", "disadvantaged")] == 36.2
    assert f[("KS4", 2026, "attainment8", "other")] == 51.0
    assert f[("KS4", 2026, "attainment8", "all")] == 46.1
    assert f[("KS4", 2026, "basics_4plus", "disadvantaged")] == pytest.approx(0.449)
    assert f[("KS4", 2026, "basics_5plus", "other")] == pytest.approx(0.539)
    # Progress 8 'z': recorded as not available, never as 0
    for group in ("disadvantaged", "other", "all"):
        assert math.isnan(f[("KS4", 2026, "progress8", group)])
    z = got.figures[got.figures.measure == "progress8"]
    assert z.definition.str.contains("'z'").all()
    assert len(got.figures) == 12  # 4 measures x 3 groups: no regional, boys or special-school figure
    assert got.not_national == {"Regional": 2}
    assert got.other_breakdowns == 2
    assert (got.figures.source == "DfE statistics service file ks4_202526.csv (Provisional)").all()
    assert (got.figures.as_of == "2026-11-01").all()


def test_older_naming_and_symbols(tmp_path):
    got = read_national_file(write(tmp_path, "ks4_202324.csv", KS4_OLD))
    f = figures(got.figures)
    assert f[("KS4", 2024, "attainment8", "disadvantaged")] == 34.6
    assert f[("KS4", 2024, "basics_4plus", "other")] == pytest.approx(0.726)
    assert f[("KS4", 2024, "basics_5plus", "disadvantaged")] == pytest.approx(0.26)
    assert f[("KS4", 2024, "progress8", "other")] == 0.16
    assert math.isnan(f[("KS4", 2024, "basics_5plus", "all")])   # 'c'
    assert math.isnan(f[("KS4", 2024, "progress8", "all")])      # 'x'
    assert got.not_national == {"Local authority": 1}            # its 'low' and 'u' are never read


def test_ks2_files_both_namings(tmp_path):
    new = figures(read_national_file(write(tmp_path, "ks2_new.csv", KS2_NEW)).figures)
    assert new[("KS2", 2026, "rwm_expected", "disadvantaged")] == pytest.approx(0.48)  # not the reading-only 62
    assert new[("KS2", 2026, "rwm_expected", "other")] == pytest.approx(0.70)
    assert new[("KS2", 2026, "rwm_higher", "other")] == pytest.approx(0.10)
    assert math.isnan(new[("KS2", 2026, "rwm_higher", "all")]) and math.isnan(new[("KS2", 2026, "rwm_higher",
                                                                                      "disadvantaged")])
    old = figures(read_national_file(write(tmp_path, "ks2_old.csv", KS2_OLD)).figures)
    assert old[("KS2", 2023, "rwm_expected", "disadvantaged")] == pytest.approx(0.44)
    assert old[("KS2", 2023, "rwm_higher", "other")] == pytest.approx(0.10)


@pytest.mark.parametrize("text, line, column, value, words", [
    (KS4_NEW.replace("36.2", "thirty"), 3, "attainment8_average", "thirty", "neither a number nor a DfE symbol"),
    (KS4_NEW.replace("36.2", ""), 3, "attainment8_average", "", "neither a number nor a DfE symbol"),
    (KS4_NEW.replace("44.9", "144.9"), 3, "engmath_94_percent", "144.9", "outside 0 to 100"),
    (KS4_NEW.replace("202526,Academic year,National,E92000001,England,,,Provisional,Disadvantage status,Disadv",
                     "2025,Academic year,National,E92000001,England,,,Provisional,Disadvantage status,Disadv", 1),
     3, "time_period", "2025", "not an academic year"),
    (KS4_NEW.replace("Academic year,National,E92000001,England,,,Provisional,Total",
                     "Calendar year,National,E92000001,England,,,Provisional,Total", 1),
     2, "time_identifier", "Calendar year", "should be 'Academic year'"),
])
def test_bad_values_are_located(tmp_path, text, line, column, value, words):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(DataValidationError) as err:
        read_national_file(path)
    [p] = err.value.problems
    assert (p.file, p.line, p.column, p.value) == (str(path), line, column, value)
    assert words in p.message


def test_not_this_layout(tmp_path):
    pupils = write(tmp_path, "pupils.csv", "URN,UPN,Attainment 8\n100001,A123,45\n")
    with pytest.raises(DataValidationError) as err:
        read_national_file(pupils)
    assert "time_period" in str(err.value.problems[0]) and "DfE statistics service" in str(err.value.problems[0])
    no_indicator = write(tmp_path, "absence.csv", GEO + ",disadvantage_status,sess_overall_percent\n"
                         "202425,Academic year,National,E92000001,England,,,Final,Total,6.9\n")
    with pytest.raises(DataValidationError) as err:
        read_national_file(no_indicator)
    assert "attainment8_average (or avg_att8)" in str(err.value.problems[0])
    only_regions = write(tmp_path, "regions.csv", "\n".join(
        line for line in KS4_NEW.splitlines() if ",National," not in line) + "\n")
    with pytest.raises(DataValidationError) as err:
        read_national_file(only_regions)
    assert "no national row" in str(err.value.problems[0])


def test_two_rows_for_one_figure_is_an_error(tmp_path):
    # an unknown numeric-looking filter cannot tell two rows apart: say so, never pick one
    text = KS4_OLD + ("202324,Academic year,National,E92000001,England,,,Revised,Disadvantage status,Disadvantaged,"
                      "Disadvantaged,1000,20.0,43.3,26.0,-0.57\n")
    with pytest.raises(DataValidationError) as err:
        read_national_file(write(tmp_path, "dup.csv", text))
    [p] = err.value.problems
    assert p.line == 6 and p.column == "avg_att8" and "line 3" in p.message


def test_user_figures_win_over_shipped_for_the_same_figure(tmp_path, user_folder):
    shipped = figures(national_figures())
    assert shipped[("KS4", 2024, "basics_5plus", "disadvantaged")] == 0.258
    target, _ = import_national_files([write(tmp_path, "ks4_202324.csv", KS4_OLD)])
    assert target == user_folder / "national.csv"
    now = figures(national_figures())
    assert now[("KS4", 2024, "basics_5plus", "disadvantaged")] == pytest.approx(0.26)   # the user's
    assert now[("KS4", 2024, "attainment8", "other")] == 50.0                            # new
    assert now[("KS4", 2023, "attainment8", "other")] == 50.3                            # shipped, kept
    assert now[("KS2", 2025, "rwm_expected", "other")] == 0.69
    # a second import adds to the first
    import_national_files([write(tmp_path, "ks4_202526.csv", KS4_NEW)])
    again = figures(national_figures())
    assert again[("KS4", 2024, "attainment8", "other")] == 50.0 and again[("KS4", 2026, "attainment8", "other")] == 51


def test_default_folder_is_under_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("GAPTOOLS_REFERENCE_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert user_reference_dir() == tmp_path / "data-home" / "gaptools" / "reference"
    assert main(["reference", "import", str(write(tmp_path, "ks2.csv", KS2_NEW))]) == 0
    assert (tmp_path / "data-home" / "gaptools" / "reference" / "national.csv").is_file()


def test_cli_exit_codes_and_messages(tmp_path, user_folder, capsys):
    good = write(tmp_path, "ks4_202526.csv", KS4_NEW)
    assert main(["reference", "import", str(good)]) == 0
    out = capsys.readouterr().out
    assert "9 national figures" in out and "KS4 2026" in out and "not available: disadvantaged, other, all" in out
    assert "2 Regional rows" in out and str(user_folder / "national.csv") in out

    bad = write(tmp_path, "bad.csv", KS4_NEW.replace("36.2", "thirty"))
    before = (user_folder / "national.csv").read_bytes()
    assert main(["reference", "import", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}, line 3, column 'attainment8_average': value 'thirty'" in out and "nothing imported" in out
    assert (user_folder / "national.csv").read_bytes() == before

    assert main(["reference", "import", str(tmp_path / "missing.csv")]) == 2
    with pytest.raises(SystemExit) as exit_:
        main(["reference"])
    assert exit_.value.code == 2
    # as a process: no traceback for a file in another layout
    r = subprocess.run([sys.executable, "-m", "gaptools.cli", "reference", "import",
                        str(write(tmp_path, "pupils.csv", "URN,UPN\n1,2\n"))], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr and "time_period" in r.stdout


def cohort(year, n_dis=30, n_oth=50, seed=11):
    rng = np.random.default_rng(seed)
    rows = []
    for dis, n, centre in ((True, n_dis, 38.0), (False, n_oth, 49.0)):
        a8 = np.clip(centre + 12 * rng.normal(0, 1, n), 0, 90).round(1)
        for i in range(n):
            g = int(np.clip(round(a8[i] / 10), 0, 9))
            rows.append({"school_id": "S1", "year": year, "key_stage": "KS4", "pupil_id": f"{dis}-{i}",
                         "disadvantaged": dis, "attainment8": a8[i], "grade_english": g, "grade_maths": g})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(pd.DataFrame(rows))


def test_end_to_end_a_new_year_is_compared_after_import(tmp_path):
    pupils = cohort(2026)
    before = gaptools.analyse_school(pupils, "S1").gaps
    assert not before.comparison.str.startswith("national").any()   # nothing on file for 2026 yet

    assert main(["reference", "import", str(write(tmp_path, "ks4_202526.csv", KS4_NEW))]) == 0
    gaps = gaptools.analyse_school(pupils, "S1").gaps
    whole = gaps[gaps.subgroup.isna()].set_index(["measure", "comparison"])
    d = pupils.loc[pupils.disadvantaged, "attainment8"].astype(float)
    assert whole.loc[("attainment8", "national_other"), "mean_reference"] == 51.0
    assert whole.loc[("attainment8", "national_other"), "gap"] == pytest.approx(51.0 - d.mean())
    assert whole.loc[("attainment8", "national_disadvantaged"), "gap"] == pytest.approx(36.2 - d.mean())
    b4 = pupils.loc[pupils.disadvantaged, "basics_4plus"].astype(bool).mean()
    assert whole.loc[("basics_4plus", "national_other"), "gap"] == pytest.approx(0.735 - b4)
    assert pd.isna(whole.loc[("attainment8", "national_other"), "n_reference"])
    # the other-pupils figure is on file, so no all-pupil comparison; no P8 ('z')
    assert "national_all" not in set(whole.index.get_level_values("comparison"))
    assert ("progress8", "national_other") not in whole.index


def test_lower_is_better_measure_against_a_national_figure_keeps_the_contract_sign(user_folder):
    # a user figure for a measure where lower is better: positive gap = our disadvantaged pupils worse off
    user_folder.mkdir(parents=True)
    (user_folder / "national.csv").write_text(
        "key_stage,year,measure,group,value,definition,source,as_of\n"
        "KS4,2026,persistent_absence,other,0.10,disadvantaged vs other pupils,a test file,2026-11-01\n")
    pupils = cohort(2026)
    att = np.r_[np.linspace(80, 99, 30), np.linspace(88, 99, 50)]
    pupils["attendance_pct"] = att
    pupils["persistent_absence"] = pd.array(att < 90, dtype="boolean")
    g = gaptools.gap_table(pupils, progress=False)
    r = g[(g.measure == "persistent_absence") & (g.comparison == "national_other")].iloc[0]
    share = (att[:30] < 90).mean()
    assert r.mean_reference == 0.10 and r.mean_disadvantaged == pytest.approx(share)
    assert r.gap == pytest.approx(share - 0.10) and r.gap > 0


def test_resume_sees_newly_imported_figures(tmp_path):
    from gaptools.batch.inputs import hash_inputs
    from gaptools.batch.school import NOTEBOOK_DIR

    pupils = cohort(2026)
    before = hash_inputs(pupils, 6, None, NOTEBOOK_DIR)
    assert hash_inputs(pupils, 6, None, NOTEBOOK_DIR) == before
    import_national_files([write(tmp_path, "ks4_202526.csv", KS4_NEW)])
    assert hash_inputs(pupils, 6, None, NOTEBOOK_DIR) != before
