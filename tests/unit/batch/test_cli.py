"""The command line as a user meets it: exit codes, messages, never a traceback."""
import subprocess
import sys

import pytest
from conftest import DATA, ROOT, SAMPLE, gaptools_cli


def gaptools(*args, cwd=ROOT, process=False):
    """The command: in this process (``gaptools_cli``), or with ``process=True`` as its own
    ``python -m gaptools.cli`` process, for the tests of the entry point and its exit codes."""
    if not process:
        return gaptools_cli(*args, cwd=cwd)
    return subprocess.run([sys.executable, "-m", "gaptools.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def test_validate_sample_ok():
    r = gaptools("validate", SAMPLE, process=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK:" in r.stdout and "6 schools" in r.stdout


@pytest.mark.parametrize("name", ["missing_column.csv", "duplicate_pupil.csv", "out_of_range.csv",
                                  "text_in_number.csv", "bad_boolean.csv", "empty.csv", "header_only.csv",
                                  "not_a_table.csv", "prose.txt", "ragged.csv", "corrupt.xlsx",
                                  "bad_grade.xlsx", "folder_one_bad"])
def test_validate_bad_files_exit_1_without_traceback(name):
    r = gaptools("validate", DATA / name)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert "INVALID:" in r.stdout.splitlines()[-1]
    assert name.split(".")[0] in r.stdout


def test_validate_reports_line_column_value():
    r = gaptools("validate", DATA / "out_of_range.csv")
    assert "line 3, column 'grade_maths': value '10': must be between 0 and 9" in r.stdout
    assert r.stdout.splitlines()[-1] == "INVALID: 5 problems in 1 file"


def test_missing_path_exits_2():
    r = gaptools("validate", DATA / "nope.csv", process=True)
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr


def test_missing_mapping_exits_2():
    r = gaptools("validate", DATA / "good.csv", "--mapping", DATA / "nope.yaml")
    assert r.returncode == 2 and "mapping file not found" in r.stderr


def test_unknown_option_exits_2():
    r = gaptools("validate", DATA / "good.csv", "--colour", process=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_mapping_validation():
    r = gaptools("validate", DATA / "mis_export.csv", "--mapping", DATA / "mis_mapping.yaml")
    assert r.returncode == 0, r.stdout
    r = gaptools("validate", DATA / "mis_export.csv")
    assert r.returncode == 1 and "does not look like a pupil table" in r.stdout


def test_sample_command(tmp_path):
    r = gaptools("sample", "--out", tmp_path / "s", "--schools", 2, "--years", 1, "--seed", 7)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["900101.csv", "900102.csv", "README.md"]


def test_validate_warns_what_a_key_stage_cannot_show(tmp_path):
    f, m = tmp_path / "export.csv", tmp_path / "m.yaml"
    f.write_text("URN,UPN,PP,English,Maths,A8\n100001,A1,Yes,5,4,50\n100001,A2,No,6,7,60\n")
    m.write_text("columns:\n  school_id: URN\n  pupil_id: UPN\n  disadvantaged: PP\n  grade_english: English\n"
                 "  grade_maths: Maths\n  attainment8: A8\nconstants:\n  key_stage: KS4\n  year: 2025\n")
    r = gaptools("validate", f, "--mapping", m)
    assert r.returncode == 0, r.stdout + r.stderr
    warned = [line for line in r.stdout.splitlines() if line.startswith("warning:")]
    assert warned == ["warning: KS4: no prior_attainment, so no Progress 8 or prior-attainment bands"]
    f.write_text("school_id,year,key_stage,pupil_id,disadvantaged,reading_score,maths_score\n"
                 "1,2025,KS2,a,yes,100,101\n")
    r = gaptools("validate", f)
    assert r.returncode == 0 and ("warning: KS2: no writing_ta, so no expected or higher standard in reading, "
                                  "writing and maths") in r.stdout


def test_a_path_with_escape_sequences_is_shown_escaped(tmp_path):
    r = gaptools("validate", tmp_path / "no\x1b[2Jsuch.csv")
    assert r.returncode == 2 and "\x1b" not in r.stderr and "no\\x1b[2Jsuch.csv: no such file" in r.stderr
