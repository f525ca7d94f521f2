"""Work done once per school (issue 15, issue 25): a school's notebooks share its analysis.

Notebook 01 works out ``gaptools.analyse`` (with the cohort profile) and keeps it in
the school's ``out_dir`` (:mod:`gaptools.analysis.cache`); 02 and 03 read it back
instead of working it out again, while the data and the choices are the same.
"""
import warnings

import pytest
from conftest import SAMPLE
from pandas.testing import assert_frame_equal

from gaptools.io.loading import load_pupils, save_validated


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pupils = load_pupils(SAMPLE)
    return save_validated(pupils, tmp_path_factory.mktemp("run") / "pupils.parquet")


def test_a_schools_notebooks_share_its_analysis(validated, tmp_path, monkeypatch):
    import gaptools.analysis.analyse as analyse_module
    from gaptools.analysis.cache import CACHE
    from gaptools.analysis.profile import cohort_profile
    from gaptools.analysis.results import analyse_school
    from gaptools.reporting.school import SchoolReport

    pupils = load_pupils(validated)
    expected = cohort_profile(pupils, school_id="900102", threshold=6)
    first = SchoolReport(str(validated), "900102", out_dir=tmp_path)
    shown = first.profile  # as notebook 01's headline
    assert first.results.profile is shown  # not worked out again for the results
    assert_frame_equal(shown, expected)
    assert (tmp_path / CACHE).is_file()

    def never(*args, **kwargs):
        raise AssertionError("the analysis was worked out again")
    monkeypatch.setattr(analyse_module, "gap_table", never)
    later = SchoolReport(str(validated), "900102", out_dir=tmp_path)  # notebook 03: the analysis is kept there
    assert_frame_equal(later.profile, expected)
    assert_frame_equal(later.table, first.table)
    with pytest.raises(AssertionError, match="worked out again"):  # another threshold is another analysis
        _ = SchoolReport(str(validated), "900102", out_dir=tmp_path, threshold=10).table
    monkeypatch.undo()
    # the results are those of a plain analysis, with its own profile
    plain = analyse_school(pupils, "900102")
    for got, want in [(later.results.table, plain.table), (later.results.findings, plain.findings),
                      (later.results.gap_index, plain.gap_index), (later.results.profile, plain.profile)]:
        assert_frame_equal(got, want)
    (tmp_path / CACHE).write_bytes(b"not a pickle")  # a damaged cache is worked out again, never an error
    assert_frame_equal(SchoolReport(str(validated), "900102", out_dir=tmp_path).table, plain.table)


def test_a_report_without_out_dir_writes_nothing(validated, tmp_path, monkeypatch):
    from gaptools.analysis.profile import cohort_profile
    from gaptools.reporting.school import SchoolReport

    monkeypatch.chdir(tmp_path)
    report = SchoolReport(str(validated), "900201")
    assert_frame_equal(report.profile, cohort_profile(load_pupils(validated), school_id="900201", threshold=6))
    assert not list(tmp_path.iterdir())
