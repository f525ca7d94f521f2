import warnings

import pytest

import gaptools
from gaptools import DataValidationError
from gaptools.domain.measures import measures_for

from conftest import DATA


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
