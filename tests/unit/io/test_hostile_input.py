"""Hostile and broken input files (issue 16): nothing silently lost, no traceback, bounded resources.

Every file is written here, by the test, into tmp_path.
"""
import csv
import io
import json
import os
import re
import subprocess
import sys
import warnings

import measure_read
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, gaptools_cli
from hostile import inline_row, write_xlsx

import gaptools
from gaptools import DataValidationError
from gaptools.batch.validate import validate_by_school
from gaptools.io.loading import read_validated, save_validated

HEADER = "school_id,year,key_stage,pupil_id,disadvantaged,ethnicity,attainment8\n"


def rows(n, school="100001"):
    return [f"{school},2025,KS4,P{i:03d},{'yes' if i % 3 == 0 else 'no'},White,{30 + i % 40}\n" for i in range(n)]


def load(path, mapping=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pupils = gaptools.load_pupils(path, mapping)
    return pupils, [str(w.message) for w in caught]


def problems(path, mapping=None):
    with pytest.raises(DataValidationError) as err:
        load(path, mapping)
    return err.value.problems


def cli(*args, timeout=None):
    """The command in this process (``gaptools_cli``); with a ``timeout``, as its own process, which
    the timeout can stop (a command that might wait forever, as on a FIFO, must not hang the suite)."""
    if timeout is None:
        return gaptools_cli(*args, cwd=ROOT)
    return subprocess.run([sys.executable, "-m", "gaptools.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def data_rows(text):
    """The records of a CSV as Python's csv module reads them, without the header."""
    return list(csv.reader(io.StringIO(text, newline="")))[1:]


# ------------------------------------------------------------ nothing silently lost

def test_quote_that_never_closes_is_an_error_at_its_line(tmp_path):
    body = rows(173)
    body[149] = body[149].replace(",White,", ',"White,')  # data line 150 = file line 151
    f = tmp_path / "quote.csv"
    f.write_text(HEADER + "".join(body))
    (p,) = problems(f)
    assert (p.line, p.column) == (151, "ethnicity")
    assert "never closes" in p.message


def test_nul_byte_after_the_first_4kb_is_an_error_with_line_and_column(tmp_path):
    body = rows(300)
    assert len(HEADER + "".join(body[:200])) > 4096
    body[200] = body[200].replace("White", "Wh\x00ite")
    f = tmp_path / "nul.csv"
    f.write_text(HEADER + "".join(body))
    (p,) = problems(f)
    assert (p.line, p.column, p.value) == (202, "ethnicity", "Wh\x00ite")
    assert "NUL" in p.message


def test_lines_in_two_encodings_are_each_read_right_with_a_warning(tmp_path):
    head = b"school_id,school_name,year,key_stage,pupil_id,disadvantaged\n"
    lines = [f"100001,Saint Émile's,2025,KS4,P{i},yes\n" for i in range(4)]
    raw = head + b"".join(line.encode("cp1252" if i % 2 else "utf-8") for i, line in enumerate(lines))
    f = tmp_path / "mixed.csv"
    f.write_bytes(raw)
    pupils, notes = load(f)
    assert pupils["school_name"].tolist() == ["Saint Émile's"] * 4  # one school, one name
    (note,) = [n for n in notes if "encodings" in n]
    assert "UTF-8 on lines 2, 4" in note and "Windows-1252 on lines 3, 5" in note


def test_mapping_reading_one_export_column_twice_is_an_error_with_its_line(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("columns:\n  school_id: URN\n  pupil_id: UPN\n  fsm: \"Pupil Premium\"\n"
                 "  disadvantaged: pupil premium\n")
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(m)
    (p,) = err.value.problems
    assert (p.line, p.column, p.value) == (5, "columns.disadvantaged", "pupil premium")
    assert "already mapped to 'fsm' (line 4)" in p.message


def test_pupil_count_equals_the_rows_read_with_trailing_delimiters_and_multiline_values(tmp_path):
    body = rows(40)
    body[5] = body[5].rstrip("\n") + ",\n"  # a trailing delimiter: one empty cell more than the header
    body[9] = body[9].replace(",White,", ',"White\nBritish",')  # a quoted value over two lines
    text = HEADER + "".join(body)
    f = tmp_path / "odd.csv"
    f.write_text(text)
    pupils, notes = load(f)
    assert len(pupils) == len(data_rows(text)) == 40
    assert pupils["pupil_id"].tolist() == [f"P{i:03d}" for i in range(40)]
    assert any("lines 11-12" in n for n in notes)
    # line numbers after the two-line value are the file's own
    body[20] = body[20].replace(",yes,", ",perhaps,").replace(",no,", ",perhaps,")
    f.write_text(HEADER + "".join(body))
    (p,) = problems(f)
    assert (p.line, p.value) == (23, "perhaps")  # data line 21 is file line 23 (one extra line above)


# ------------------------------------------------------------ no traceback, ever

def test_ks2_file_without_test_codes_loads(tmp_path):
    f = tmp_path / "ks2.csv"
    f.write_text("school_id,year,key_stage,pupil_id,disadvantaged,reading_score,maths_score,writing_ta\n"
                 "1,2025,KS2,a,yes,100,101,EXS\n1,2025,KS2,b,no,99,110,GDS\n1,2025,KS2,c,yes,112,115,WTS\n")
    pupils, _ = load(f)
    # by hand: a meets all three; b reading 99 < 100; c writing WTS
    assert pupils["rwm_expected"].tolist() == [True, False, False]
    assert pupils["rwm_higher"].tolist() == [False, False, False]


def test_binary_file_without_nul_bytes(tmp_path):
    import random

    rnd = random.Random(7)
    f = tmp_path / "photo.csv"
    f.write_bytes(bytes(rnd.randrange(1, 256) for _ in range(20000)))
    (p,) = problems(f)
    assert p.file == str(f) and "binary data" in p.message


def test_cr_only_csv_reads_like_lf(tmp_path):
    text = HEADER + "".join(rows(12))
    lf, cr = tmp_path / "lf.csv", tmp_path / "cr.csv"
    lf.write_bytes(text.encode())
    cr.write_bytes(text.replace("\n", "\r").encode())
    pd.testing.assert_frame_equal(load(cr)[0].drop(columns="school_name"), load(lf)[0].drop(columns="school_name"))


def test_parquet_with_a_list_column_names_it(tmp_path):
    f = tmp_path / "lists.parquet"
    pq.write_table(pa.table({"school_id": ["1", "1"], "year": [2025, 2025], "key_stage": ["KS4", "KS4"],
                             "pupil_id": ["a", "b"], "disadvantaged": [True, False], "tags": [[1, 2], [3]]}), f)
    (p,) = problems(f)
    assert (p.column, p.line) == ("tags", 1) and "lists" in p.message


def test_parquet_with_forged_validated_metadata_is_validated(tmp_path):
    f = tmp_path / "forged.parquet"
    table = pa.table({"school_id": ["1", "1"], "year": ["2025", "twenty"], "key_stage": ["KS4", "KS4"],
                      "pupil_id": ["a", "b"], "disadvantaged": ["yes", "perhaps"]})
    meta = json.dumps({"measures": [], "warnings": [], "sources": []}).encode()
    pq.write_table(table.replace_schema_metadata({b"gaptools.validated": meta}), f)
    assert read_validated(f) is None
    found = sorted((p.line, p.column, p.value) for p in problems(f))
    assert found == [(3, "disadvantaged", "perhaps"), (3, "year", "twenty")]
    # a typed table that breaks the schema (a grade of 12) is not trusted either
    g = tmp_path / "forged_typed.parquet"
    typed = pd.DataFrame({"school_id": ["1"], "school_name": ["1"], "year": [2025], "key_stage": ["KS4"],
                          "pupil_id": ["a"], "disadvantaged": [True], "grade_maths": [12]})
    typed = typed.astype({"school_id": "string", "school_name": "string", "year": "Int64",
                          "key_stage": "string", "pupil_id": "string", "disadvantaged": "boolean",
                          "grade_maths": "Int64"})
    pq.write_table(pa.Table.from_pandas(typed, preserve_index=False).replace_schema_metadata(
        {b"gaptools.validated": meta}), g)
    assert read_validated(g) is None
    (p,) = problems(g)
    assert (p.column, p.value) == ("grade_maths", "12")


def test_table_written_by_save_validated_is_still_read_back_as_it_is(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text(HEADER + "".join(rows(10)))
    pupils, _ = load(f)
    save_validated(pupils, tmp_path / "v.parquet")
    back = read_validated(tmp_path / "v.parquet")
    pd.testing.assert_frame_equal(back[pupils.columns], pupils.reset_index(drop=True))


MINIMAL = "school_id,year,key_stage,pupil_id,disadvantaged,UPN,fsm\n1,2025,KS4,x1,yes,A1,no\n1,2025,KS4,x2,no,A2,yes\n"


def test_mapping_with_a_duplicate_key(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("columns:\n  school_id: URN\n  pupil_id: UPN\n  school_id: School\n")
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(m)
    (p,) = err.value.problems
    assert (p.line, p.column) == (4, "columns.school_id") and "also at line 2" in p.message


@pytest.mark.parametrize("line, used, ignored, expected", [
    ("pupil_id: UPN", "UPN", "pupil_id", ["A1", "A2"]),
    ("disadvantaged: fsm", "fsm", "disadvantaged", [False, True]),
])
def test_mapping_replacing_a_column_the_file_has(tmp_path, line, used, ignored, expected):
    f, m = tmp_path / "p.csv", tmp_path / "m.yaml"
    f.write_text(MINIMAL)
    m.write_text(f"columns:\n  {line}\n")
    pupils, notes = load(f, m)
    canon = line.split(":")[0]
    assert pupils[canon].tolist() == expected
    assert any(f"column '{ignored}' is not used" in n and f"'{used}'" in n for n in notes)


def test_binary_mapping_file(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_bytes(bytes(range(1, 256)) * 8)
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(m)
    assert "is not valid YAML" in err.value.problems[0].message
    m.write_bytes(b"columns:\n  school_id: U\x00RN\n")
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(m)
    assert "binary data" in err.value.problems[0].message


def test_mapping_nested_100000_deep(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("columns: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(m)
    (p,) = err.value.problems
    assert p.line == 1 and "nested more than" in p.message


def test_custom_measure_read_from_the_disadvantaged_column(tmp_path):
    f, m = tmp_path / "p.csv", tmp_path / "m.yaml"
    f.write_text(MINIMAL)
    m.write_text("measures:\n  pp_rate: {column: disadvantaged, kind: rate}\n")
    pupils, _ = load(f, m)
    assert pupils["disadvantaged"].tolist() == [True, False]
    assert pupils["pp_rate"].tolist() == [True, False]


def test_unreadable_file_in_a_folder_is_set_aside_and_the_others_go_on(tmp_path):
    (tmp_path / "a.csv").write_text(HEADER + "".join(rows(8, "100001")))
    (tmp_path / "b.csv").write_bytes((HEADER + "".join(rows(8, "100002"))).replace("\n", "\r").encode())
    (tmp_path / "c.csv").write_text(HEADER + '100003,2025,KS4,"P1,yes,White,40\n')
    pupils, failures = validate_by_school(tmp_path)
    assert sorted(pupils["school_id"].unique()) == ["100001", "100002"]
    assert len(pupils) == 16
    (key,) = failures
    assert "never closes" in failures[key][0].message and failures[key][0].file.endswith("c.csv")
    r = cli("validate", tmp_path)
    assert r.returncode == 1 and "c.csv, line 2" in r.stdout and "Traceback" not in r.stdout + r.stderr


def test_a_row_too_wide_in_a_trust_wide_file_costs_its_school_not_the_file(tmp_path):
    """Issue 30: an unquoted comma in one pupil's value (a row with a cell too many) sets aside that
    pupil's school only; every row of the other schools is read. Where the comma shifted the school
    id itself (no other row has the id it reads), whose row it is cannot be told: the file fails."""
    body = rows(8, "100001") + rows(8, "100002") + rows(8, "100003")
    body[10] = body[10].replace(",White,", ",White, British,")  # a pupil of 100002
    (tmp_path / "trust.csv").write_text(HEADER + "".join(body))
    pupils, failures = validate_by_school(tmp_path)
    assert list(failures) == ["100002"] and failures["100002"][0].line == 12
    assert "has 8 cells but the header has 7" in failures["100002"][0].message
    assert pupils.groupby("school_id").size().to_dict() == {"100001": 8, "100003": 8}
    assert pupils.loc[pupils.school_id == "100003", "pupil_id"].tolist() == [f"P{i:03d}" for i in range(8)]

    shifted = tmp_path / "shifted"
    shifted.mkdir()
    named = [f"{r.split(',')[0]} School," + r for r in rows(8, "100001") + rows(8, "100002")]  # a name first
    named[10] = "St Mary's, Church School," + named[10].split(",", 1)[1]  # ...with a comma that shifts the id
    (shifted / "trust.csv").write_text("school_name," + HEADER + "".join(named))
    pupils, failures = validate_by_school(shifted)
    assert pupils is None and list(failures) == ["trust.csv"]


def test_an_overlong_cell_and_too_many_columns_are_refused_at_once(tmp_path):
    """Issue 30: a cell far longer than any pupil-table value, and more columns than any pupil table has,
    are refused by validation with a located message (before they cost every later step)."""
    from gaptools.io.readers import MAX_CELL_CHARS, MAX_COLUMNS

    body = rows(6)
    body[3] = body[3].replace(",White,", "," + "x" * (MAX_CELL_CHARS + 1) + ",")
    (tmp_path / "long.csv").write_text(HEADER + "".join(body))
    with pytest.raises(gaptools.DataValidationError) as err:
        load(tmp_path / "long.csv")
    (p,) = err.value.problems
    assert (p.line, p.column, p.value) == (5, "ethnicity", None) and f"{MAX_CELL_CHARS + 1:,} characters" in p.message
    extra = ",".join(f"c{i}" for i in range(MAX_COLUMNS))
    body = "".join(r.strip() + "," * MAX_COLUMNS + "\n" for r in rows(6))
    (tmp_path / "wide.csv").write_text(HEADER.strip() + "," + extra + "\n" + body)
    with pytest.raises(gaptools.DataValidationError) as err:
        load(tmp_path / "wide.csv")
    (p,) = err.value.problems
    assert p.line == 1 and f"has {MAX_COLUMNS + 7:,} columns" in p.message


def test_a_link_inside_the_data_folder_is_refused_and_a_folder_inside_it_is_named(tmp_path):
    """Issue 30: a symbolic link in DATA (to a system file, another school's export) is refused, never read
    or quoted; a folder inside DATA is not read, and a warning says so; a DATA that is itself a link (the
    user's own choice) is followed."""
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(HEADER + "".join(rows(8, "100009")).replace("White", "SECRET-ROW"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text(HEADER + "".join(rows(8, "100001")))
    (data / "b.csv").symlink_to(outside)
    (data / "older").mkdir()
    (data / "older" / "c.csv").write_text(HEADER + "".join(rows(8, "100003")))
    pupils, failures = validate_by_school(data)
    assert sorted(pupils["school_id"].unique()) == ["100001"]
    (key,) = failures
    assert "symbolic link" in failures[key][0].message and failures[key][0].file.endswith("b.csv")
    r = cli("validate", data)
    assert r.returncode == 1 and "SECRET-ROW" not in r.stdout + r.stderr
    assert "older: a folder inside" in r.stdout + r.stderr
    link = tmp_path / "named.csv"
    link.symlink_to(data / "a.csv")
    pupils, _ = load(link)
    assert len(pupils) == 8


def test_a_mistyped_results_year_is_a_problem_not_a_headline(tmp_path):
    """Issue 30: two rows typed 2052 beside full cohorts passed validation and became the school's headline
    ("results of 2051/52: 2 pupils"); a year after the latest possible results, or a handful of pupils beside
    full cohorts, is now a located problem. A small school's small cohorts are not."""
    import datetime as dt

    from gaptools.io.resultyears import latest_possible

    assert latest_possible(dt.date(2026, 12, 7)) == 2026 and latest_possible(dt.date(2026, 3, 1)) == 2025
    body = [r.replace(",2025,", f",{y},") for y in (2023, 2024) for r in rows(40)]
    body = [r.replace(",P0", f",Y{r.split(',')[1]}-") for r in body]  # a pupil id of its own each year
    body[3] = body[3].replace(",2023,", ",2052,")
    body[50] = body[50].replace(",2024,", ",2052,")
    (tmp_path / "typo.csv").write_text(HEADER + "".join(body))
    with pytest.raises(gaptools.DataValidationError) as err:
        load(tmp_path / "typo.csv")
    assert [(p.line, p.column, p.value) for p in err.value.problems] == [(5, "year", "2052"), (52, "year", "2052")]
    assert "after the latest results there can be" in err.value.problems[0].message
    stray = [r.replace(",2025,", ",2024,") for r in rows(40)] + [r.replace(",2025,", ",2019,") for r in rows(3)]
    (tmp_path / "stray.csv").write_text(HEADER + "".join(stray).replace(",P0", ",Q"))
    with pytest.raises(gaptools.DataValidationError) as err:
        load(tmp_path / "stray.csv")
    assert [p.line for p in err.value.problems] == [42, 43, 44] and "only 3 pupils in KS4 2019" in \
        err.value.problems[0].message
    small = [r.replace(",2025,", f",{y},").replace(",P0", f",{y}-") for y in (2023, 2024) for r in rows(4)]
    (tmp_path / "small.csv").write_text(HEADER + "".join(small))
    assert len(load(tmp_path / "small.csv")[0]) == 8


def test_ids_a_person_would_take_for_one_are_said_not_guessed(tmp_path):
    """Issue 30 (minor cases): "900102 " and "900102" with two names, a full-width look-alike id, and one
    pupil id in two schools in one year each give a warning naming them; nothing is merged or dropped."""
    header = "school_id,school_name,year,key_stage,pupil_id,disadvantaged\n"
    lines = [f"900101,North,2025,KS4,N{i},no\n" for i in range(6)]
    lines += ["900102,South,2025,KS4,S0,yes\n", "900102 ,South Academy,2025,KS4,S1,no\n"]
    lines += ["\uff19\uff10\uff10\uff11\uff10\uff11,North (full width),2025,KS4,W0,no\n"]
    lines += ["900102,South,2025,KS4,N3,no\n"]  # the pupil of 900101 line 5, also at 900102
    (tmp_path / "ids.csv").write_text(header + "".join(lines), encoding="utf-8")
    pupils, caught = load(tmp_path / "ids.csv")
    assert len(pupils) == len(lines)
    said = " ".join(caught)
    assert "school 900102 has 2 names" in said and "'South'" in said and "'South Academy'" in said
    assert "look alike but differ" in said and "900101" in said
    assert "1 pupil id is in two schools" in said and "N3 in KS4 2025" in said and "ids.csv line 5" in said \
        and "ids.csv line 11" in said


def test_thousands_of_subject_columns_are_refused_before_they_are_analysed(tmp_path):
    """Issue 30: 3,000 grade_ columns in a 400 KB file made a 1.9 GB kernel and a 51 MB page; more subjects
    than any school offers are refused at validation, at the header."""
    from gaptools.io.loading import MAX_SUBJECTS

    extra = ",".join(f"grade_s{i}" for i in range(MAX_SUBJECTS + 1))
    (tmp_path / "subjects.csv").write_text(HEADER.strip() + "," + extra + "\n" + "".join(
        r.strip() + "," + ",".join("5" for _ in range(MAX_SUBJECTS + 1)) + "\n" for r in rows(6)))
    with pytest.raises(gaptools.DataValidationError) as err:
        load(tmp_path / "subjects.csv")
    (p,) = err.value.problems
    assert p.line == 1 and f"has {MAX_SUBJECTS + 1:,} grade_ columns" in p.message
    extra = ",".join(f"grade_s{i}" for i in range(40))  # a real school's many subjects still read
    (tmp_path / "ok.csv").write_text(HEADER.strip() + "," + extra + "\n" + "".join(
        r.strip() + "," + ",".join("5" for _ in range(40)) + "\n" for r in rows(6)))
    assert len(load(tmp_path / "ok.csv")[0]) == 6


def test_a_large_file_shows_its_reading_on_a_terminal_and_reads_the_same(tmp_path, monkeypatch):
    """Issue 30: a large text file is read in blocks with a progress bar on a terminal (none in a pipe or a
    log), and the blocks give exactly the table a single read gives (a quoted line break included)."""
    import io as _io
    import os
    import pty
    import subprocess
    import sys

    import pandas as pd

    from gaptools.io import textreader

    body = [f"{100001 + i % 3},2025,KS4,P{i:07d},{'yes' if i % 3 == 0 else 'no'},\"White, British\",{30 + i % 40}\n"
            for i in range(230_000)]
    body[1234] = body[1234].replace('"White, British"', '"White,\nBritish"')
    text = HEADER + "".join(body)
    assert len(text) > textreader.PROGRESS_FROM
    opts = {"sep": ",", "dtype": str, "keep_default_na": False, "na_filter": False, "skip_blank_lines": False,
            "engine": "c", "header": None}
    pd.testing.assert_frame_equal(textreader._parse(text, ",", "big.csv"), pd.read_csv(_io.StringIO(text), **opts))
    (tmp_path / "big.csv").write_text(text)
    import fcntl
    import struct
    import termios

    leader, follower = pty.openpty()  # the command's stderr a terminal, as a person running it sees
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # (a new pty is 0 wide)
    run = subprocess.run([sys.executable, "-m", "gaptools.cli", "validate", tmp_path / "big.csv"],
                         stdout=subprocess.PIPE, stderr=follower, text=True, timeout=300)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert run.returncode == 0 and "230,000 pupils" in run.stdout, run.stdout
    assert b"reading big.csv" in shown and b"MB" in shown


def test_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pupils.csv"
    os.mkfifo(fifo)
    r = cli("validate", fifo, timeout=60)
    assert r.returncode == 1 and "not an ordinary file" in r.stdout
    m = tmp_path / "m.yaml"
    os.mkfifo(m)
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "".join(rows(2)))
    r = cli("validate", good, "--mapping", m, timeout=60)
    assert r.returncode == 2 and "not an ordinary file" in r.stderr


# ------------------------------------------------------------ terminal and message length

def test_control_characters_never_reach_the_terminal(tmp_path):
    f = tmp_path / "ansi.csv"
    body = rows(3)
    body[1] = body[1].replace(",no,", ",\x1b[2J\x1b[31mno\x07,").replace(",yes,", ",\x1b[2J\x1b[31mno\x07,")
    f.write_text(HEADER + "".join(body))
    r = cli("validate", f)
    assert r.returncode == 1
    assert "\x1b" not in r.stdout + r.stderr and "\x07" not in r.stdout
    assert "value '\\x1b[2J\\x1b[31mno\\x07'" in r.stdout


def test_a_huge_header_is_quoted_short(tmp_path):
    f = tmp_path / "wide.csv"
    f.write_text("school_id,year,key_stage,pupil_id," + "H" * 100_000 + "\n1,2025,KS4,a,yes\n")
    r = cli("validate", f)
    assert r.returncode == 1 and "line 1, column '#5': holds a value of 100,000 characters" in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) < 2500
    f.write_text("school_id,year,key_stage,pupil_id," + "H" * 1_000_000 + "\n1,2025,KS4,a,yes\n")
    r = cli("validate", f)
    assert r.returncode == 1 and "wide.csv, line 1: the header could not be read" in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) < 2500


# ------------------------------------------------------------ bounded resources

def measured(what, path):
    """Read ``path`` in a process of its own (tests/measure_read.py); its time (the read alone) and
    peak memory (the whole process)."""
    out = measure_read.measured(what, path)
    assert out["seconds"] < 10, out
    assert out["max_rss_kb"] < 2**20, out  # 1 GiB
    return out["problems"]


XHEAD = {"A": "school_id", "B": "year", "C": "key_stage", "D": "pupil_id", "E": "disadvantaged"}


def test_xlsx_that_expands_far_beyond_its_size(tmp_path):
    row = inline_row(2, {"A": "1", "B": "2025", "C": "KS4", "D": "a", "E": "yes"}).encode() * 20000

    def sheet():
        yield inline_row(1, XHEAD)
        for _ in range(2**28 // len(row) + 1):
            yield row

    f = write_xlsx(tmp_path / "bomb.xlsx", sheet())
    assert f.stat().st_size < 20 * 2**20
    (p,) = measured("table", f)
    assert re.search(r"expands to 2\d\d MB, more than gaptools reads \(50 MB\)", p) and "export it as CSV" in p


def test_xlsx_with_a_cell_far_to_the_right_on_every_row(tmp_path):
    def sheet():
        yield inline_row(1, XHEAD)
        for r in range(2, 5000):
            yield f'<row r="{r}"><c r="XFD{r}" t="inlineStr"><is><t>x</t></is></c></row>'

    (p,) = measured("table", write_xlsx(tmp_path / "wide.xlsx", sheet()))
    assert "line 2" in p and "value in column 16,384" in p


def test_xlsx_with_too_many_cells(tmp_path):
    def sheet():
        yield inline_row(1, XHEAD)
        for r in range(2, 4000):
            yield inline_row(r, {"A": "1", "BXX": "x"})  # BXX is column 2,000: as wide as allowed

    (p,) = measured("table", write_xlsx(tmp_path / "cells.xlsx", sheet()))
    assert "more than 5,000,000 cells" in p


def test_xlsx_with_a_huge_header_cell(tmp_path):
    def sheet():
        yield '<row r="1"><c r="A1" t="inlineStr"><is><t>'
        for _ in range(40):
            yield "H" * 2**20
        yield '</t></is></c>' + "".join(
            f'<c r="{c}1" t="inlineStr"><is><t>{t}</t></is></c>' for c, t in list(XHEAD.items())[1:]) + "</row>"
        yield inline_row(2, {"A": "1", "B": "2025", "C": "KS4", "D": "a", "E": "yes"})

    f = write_xlsx(tmp_path / "header.xlsx", sheet())
    assert measured("table", f) == []  # read within bounds; the loader then quotes it short
    with pytest.raises(DataValidationError) as err:
        load(f)
    text = str(err.value)
    assert "required column 'school_id' is missing" in text and len(text) < 3000


def test_yaml_billion_laughs(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    m = tmp_path / "lol.yaml"
    m.write_text("\n".join(lines) + "\ncolumns: {school_id: URN}\nconstants: *i\n")
    (p,) = measured("mapping", m)
    assert "more than 50 aliases" in p


def test_yaml_seven_levels_of_anchors_within_the_alias_bound(tmp_path):
    # 7 levels of 7 aliases each stays under the alias bound but would expand to 7**7 = 823,543 entries
    lines = ['a: &a ["x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdef", "bcdefg"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 7) + "]")
    m = tmp_path / "seven.yaml"
    m.write_text("\n".join(lines) + "\n")
    (p,) = measured("mapping", m)
    assert "expands to more than 20,000 entries" in p


def test_xlsx_with_empty_formatted_cells_far_to_the_right_is_read(tmp_path):
    # Excel writes a styled empty cell as <c r="XFD2" s="1"/>: not data, so not a reason to refuse
    def sheet():
        yield inline_row(1, XHEAD)[:-len("</row>")] + '<c r="XFD1" s="1"/></row>'
        yield inline_row(2, {"A": "1", "B": "2025", "C": "KS4", "D": "a", "E": "yes"})[:-len("</row>")] \
            + '<c r="XFD2" s="1"/></row>'

    f = write_xlsx(tmp_path / "styled.xlsx", sheet())
    assert measured("table", f) == []
    pupils, _ = load(f)
    assert pupils["pupil_id"].tolist() == ["a"] and pupils["disadvantaged"].tolist() == [True]


def test_xlsx_with_a_million_empty_formatted_cells_per_row_is_bounded(tmp_path):
    def sheet():
        yield inline_row(1, XHEAD)
        for r in range(2, 20000):
            yield f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>1</t></is></c><c r="XFD{r}" s="1"/></row>'

    (p,) = measured("table", write_xlsx(tmp_path / "padded.xlsx", sheet()))
    assert "more than 20,000,000 cells, counting empty formatted ones" in p


def test_parquet_that_expands_beyond_the_bound(tmp_path):
    f = tmp_path / "many.parquet"
    n = 30_000_000  # one repeated value: a tiny file, 30 million rows x 5 columns
    column = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int8)), pa.array(["1"]))
    table = pa.Table.from_arrays([column] * 5, names=["school_id", "year", "key_stage", "pupil_id", "disadvantaged"])
    pq.write_table(table, f)
    assert f.stat().st_size < 50 * 2**20
    (p,) = measured("table", f)
    assert "holds 30,000,000 rows of 5 columns" in p


def test_mapping_reading_a_required_column_as_another_says_so(tmp_path):
    f, m = tmp_path / "p.csv", tmp_path / "m.yaml"
    f.write_text(MINIMAL)
    m.write_text("columns:\n  school_id: pupil_id\n")
    (p,) = problems(f, m)
    assert (p.line, p.column) == (1, "pupil_id")
    assert p.message == ("required column 'pupil_id' is missing: the mapping reads the file's 'pupil_id' column "
                         "as 'school_id'")


def test_skip_rows_that_leave_nothing_say_so(tmp_path):
    f, m = tmp_path / "p.csv", tmp_path / "m.yaml"
    f.write_text(MINIMAL)
    m.write_text("skip_rows: {column: school_id, matching: \".\"}\n")
    (p,) = problems(f, m)
    assert p.message == "the file has a header but no pupil rows (2 rows left out by the mapping's skip_rows)"


def test_warnings_are_shown_even_when_the_data_is_refused(tmp_path):
    head = b"school_id,school_name,year,key_stage,pupil_id,disadvantaged\n"
    f = tmp_path / "mixed.csv"
    f.write_bytes(head + "1,Émile,2025,KS4,a,yes\n".encode() + "1,Émile,2025,KS4,b,maybe\n".encode("cp1252"))
    r = cli("validate", f)
    assert r.returncode == 1
    out = r.stdout.splitlines()
    assert out[0].startswith("warning: ") and "UTF-8 on line 2, Windows-1252 on line 3" in out[0]
    assert "line 3, column 'disadvantaged': value 'maybe'" in out[1] and out[-1] == "INVALID: 1 problem in 1 file"


def test_a_byte_undefined_in_windows_1252_changes_nothing_else_and_is_named(tmp_path):
    head = b"school_id,school_name,year,key_stage,pupil_id,disadvantaged\n"
    f = tmp_path / "odd.csv"
    f.write_bytes(head + "1,St Mary’s,2025,KS4,a,yes\n".encode("cp1252") + b"1,St Mary\x92s,2025,KS4,b\x81,no\n")
    pupils, notes = load(f)
    assert pupils["school_name"].tolist() == ["St Mary’s", "St Mary’s"]  # the curly quote read as Windows-1252
    assert pupils["pupil_id"].tolist() == ["a", "b\x81"]                 # the undefined byte kept, not dropped
    assert any("line 3 holds bytes that are not characters" in n and "'\\x81'" in n for n in notes)
