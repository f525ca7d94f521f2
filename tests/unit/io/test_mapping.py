import warnings

import pandas as pd
import pytest
from conftest import DATA

import gaptools
from gaptools import DataValidationError
from gaptools.domain.measures import measures_for


def load(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(*args)


def test_mis_export_through_mapping():
    p = load(DATA / "mis_export.csv", DATA / "mis_mapping.yaml")
    assert p["school_id"].tolist() == ["100001"] * 3
    assert p["key_stage"].tolist() == ["KS4"] * 3          # constant
    assert p["year"].tolist() == [2025] * 3                # constant
    assert p["disadvantaged"].tolist() == [True, False, True]  # Yes/No read as booleans
    assert p["sex"].tolist() == ["F", "M", "F"]            # Female/Male
    assert p["sen"].tolist() == ["K", "N", "E"]            # value map, including "" -> N
    assert p["attendance_pct"].tolist() == [96.5, 88.0, 91.2]  # "96.5%"
    assert p["grade_english"].tolist() == [6, 0, 4]        # U counts as 0
    assert p["passed_phonics"].tolist() == [True, False, True]
    assert p["reading_age_gap"].tolist() == [1.5, -2.0, 0.25]
    names = [m.name for m in measures_for(p, "KS4")]
    assert "reading_age_gap" in names and "passed_phonics" in names
    custom = {m.name: m for m in measures_for(p, "KS4") if m.custom}
    assert custom["passed_phonics"].kind == "rate" and custom["reading_age_gap"].kind == "score"


def test_mapping_as_dict_and_missing_export_column(tmp_path):
    mapping = {"columns": {"school_id": "URN", "pupil_id": "Pupil Number", "disadvantaged": "Pupil Premium"},
               "constants": {"key_stage": "KS4", "year": "2025"}}
    with pytest.raises(DataValidationError) as err:
        load(DATA / "mis_export.csv", mapping)
    (p,) = err.value.problems
    assert p.column == "Pupil Number" and p.line == 1
    assert "no such column" in p.message


def test_bad_mapping_file_lines(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("columns:\n  school_id: URN\n  favourite_colour: Colour\nmeasures:\n"
                 "  reading_age: {column: RA, kind: average}\n")
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(f)
    found = [(p.line, p.column) for p in err.value.problems]
    assert found == [(3, "columns.favourite_colour"), (5, "measures.reading_age.kind")]


def test_yaml_syntax_error_has_a_line(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("columns:\n  school_id: URN\n   pupil_id: [UPN\n")
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(f)
    assert err.value.problems[0].line in (3, 4)
    assert "not valid YAML" in err.value.problems[0].message


def test_yes_no_keys_are_not_turned_into_booleans_by_yaml(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text('values:\n  sen: {No: N, Yes: K}\n')
    m = gaptools.load_mapping(f)
    assert m.values["sen"] == {"No": "N", "Yes": "K"}


# ------------------------------------------------------------ mappings for real exports (issue 13 item 5)

EXPORT = ("URN,UPN,Pupil Premium,KS2 Reading SS,KS2 Maths SS,Attainment 8\n"
          "100001,A1,Yes,104,99,52\n"
          "100001,A2,No,112,,61\n"         # one KS2 score: that one is the prior attainment
          "100001,A3,Yes,A,95,30.5\n"      # absent from reading: maths alone
          "100001,A4,No,,,44\n"            # no KS2 results: no prior attainment
          "Total pupils: 4,,,,,\n")
MAPPING = ("columns:\n  school_id: URN\n  pupil_id: UPN\n  disadvantaged: Pupil Premium\n"
           "  attainment8: Attainment 8\n"
           "  prior_attainment: {mean_of: [\"KS2 Reading SS\", \"KS2 Maths SS\"]}\n"
           "constants:\n  key_stage: KS4\n  year: 2024\n"  # (2025 has no Progress 8: no KS2 tests in 2020)
           "skip_rows: {column: URN, matching: \"^Total\"}\n")


def export_files(tmp_path, export=EXPORT, mapping=MAPPING):
    f, m = tmp_path / "export.csv", tmp_path / "m.yaml"
    f.write_text(export)
    m.write_text(mapping)
    return f, m


def test_mean_of_gives_prior_attainment_and_progress8(tmp_path):
    f, m = export_files(tmp_path)
    with pytest.warns(gaptools.GaptoolsWarning, match=r"skipped 1 row whose 'URN' matches '\^Total'.*line 6"):
        p = gaptools.load_pupils(f, m)
    expected = [(104 + 99) / 2, 112.0, 95.0, None]
    got = p["prior_attainment"].tolist()
    assert got[:3] == expected[:3] and pd.isna(got[3])
    assert p["progress8"].notna().tolist() == [True, True, True, False]  # derived where there is prior attainment
    assert p.attrs["gaptools_sources"] == [str(f)]


def test_without_skip_rows_the_totals_row_fails_at_its_line(tmp_path):
    f, m = export_files(tmp_path, mapping=MAPPING.split("skip_rows")[0])
    with pytest.raises(DataValidationError) as err:
        load(f, m)
    assert {p.line for p in err.value.problems} == {6}


def test_skip_rows_keeps_line_numbers_and_names_a_missing_column(tmp_path):
    f, m = export_files(tmp_path, export=EXPORT.replace("A3,Yes", "A3,Perhaps"))
    with pytest.raises(DataValidationError) as err:
        load(f, m)
    (p,) = err.value.problems
    assert (p.line, p.column, p.value) == (4, "Pupil Premium", "Perhaps")
    f, m = export_files(tmp_path, mapping=MAPPING.replace("column: URN", "column: Notes"))
    with pytest.raises(DataValidationError) as err:
        load(f, m)
    assert [(p.line, p.column) for p in err.value.problems][0] == (1, "Notes")


def test_mean_of_source_that_is_not_a_number_is_located(tmp_path):
    f, m = export_files(tmp_path, export=EXPORT.replace("112,,61", "112,n/a,61"))
    with pytest.raises(DataValidationError) as err:
        load(f, m)
    (p,) = err.value.problems
    assert (p.line, p.column, p.value) == (3, "KS2 Maths SS", "n/a")
    assert "prior_attainment" in p.message


@pytest.mark.parametrize("spec, text", [
    ('{mean_of: ["KS2 Reading SS"]}', "two or more columns"),
    ('{mean_of: ["KS2 Reading SS", "ks2 reading ss"]}', "same export column twice"),
    ('{sum_of: ["KS2 Reading SS", "KS2 Maths SS"]}', "mean_of"),
])
def test_bad_mean_of(tmp_path, spec, text):
    m = tmp_path / "m.yaml"
    m.write_text(f"columns:\n  school_id: URN\n  prior_attainment: {spec}\n")
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(m)
    (p,) = err.value.problems
    assert p.line == 3 and text in p.message


def test_mean_of_only_for_number_columns(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text('columns:\n  sex: {mean_of: ["A", "B"]}\n')
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(m)
    assert "only a number column" in err.value.problems[0].message


def test_skip_rows_with_a_bad_regular_expression(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("columns:\n  school_id: URN\nskip_rows:\n  - {column: URN, matching: \"^Total(\"}\n")
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(m)
    (p,) = err.value.problems
    assert p.line == 3 and p.value == "^Total(" and "not a regular expression" in p.message


def test_a_measure_named_like_a_derived_one_is_refused(tmp_path):
    """Issue 30 (minor): a declared measure named va_grade_english was silently replaced by the value added
    gaptools derives under that name; like a standard column's name, it is refused at its line."""
    f = tmp_path / "m.yaml"
    f.write_text("columns:\n  school_id: URN\nmeasures:\n  va_grade_english: {column: VA, kind: score}\n"
                 "  persistent_absence: {column: PA, kind: rate}\n")
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(f)
    found = [(p.line, p.column, "clashes with a standard" in p.message) for p in err.value.problems]
    assert found == [(4, "measures.va_grade_english", True), (5, "measures.persistent_absence", True)]


def test_a_refused_mapping_says_it_is_the_mapping_file(tmp_path):
    import pickle

    path = tmp_path / "map.yaml"
    path.write_text("columns: [unclosed\n")
    with pytest.raises(DataValidationError) as err:
        gaptools.load_mapping(path)
    assert str(err.value).startswith("1 problem found in the mapping file:")
    again = pickle.loads(pickle.dumps(err.value))  # as a Dask worker sends it back
    assert str(again) == str(err.value) and again.what == "the mapping file"
