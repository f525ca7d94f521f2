"""One school's data as its report reads it: the pupils loaded, the cohorts chosen, the analysis
(:func:`gaptools.analyse`, given, or computed once and kept for the school's other notebooks) and the
rows of one cohort."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..domain.suppression import DEFAULT_THRESHOLD
from .cohorts import Cohort, cohort_rows, each_cohort, no_measure_text

if TYPE_CHECKING:
    from ..analysis.analyse import SchoolAnalysis
    from ..analysis.model import SchoolResults


def load_data(data, mapping, current: bool = False, school=None):
    """The pupil table, quietly (a page shows no loading warnings); with ``school``, what that school's
    analysis needs (:func:`gaptools.load_school`: from a run's table by school, its rows alone)."""
    if isinstance(data, pd.DataFrame) and "gaptools_sources" in data.attrs:
        return data
    import warnings

    from ..errors import GaptoolsWarning
    from ..io.loading import load_pupils
    from ..io.school import load_school

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        if school is not None and not current:
            return load_school(data, school, mapping)
        return load_pupils(data, mapping, current=current)


__all__ = ["Cohort", "SchoolData", "load_data", "no_measure_text"]  # (Cohort, no_measure_text: from .cohorts)


class SchoolData:
    """The data behind :class:`~gaptools.reporting.school.SchoolReport` (its parameters are
    documented there): the sections it shows read only what this gives."""

    def __init__(self, data, school_id, *, year=None, key_stage=None, mapping=None,
                 threshold: int = DEFAULT_THRESHOLD, out_dir=None, current=None, current_mapping=None,
                 activities=None, activities_mapping=None, assessments=None, assessments_mapping=None,
                 analysis: SchoolAnalysis | None = None):
        self.school_id = str(school_id)
        self.pupils = load_data(data, mapping, school=self.school_id)
        self.current = None if current is None else load_data(
            current, mapping if current_mapping is None else current_mapping, current=True)
        self.threshold = int(threshold)
        self.out_dir = Path(out_dir) if out_dir else None
        mine = self.pupils[self.pupils["school_id"] == self.school_id]
        if mine.empty:
            known = ", ".join(sorted(self.pupils["school_id"].unique())[:20])
            raise KeyError(f"school_id {self.school_id!r} is not in the data (schools: {known})")
        self.school_name = str(mine["school_name"].iloc[0])
        stages = sorted(mine["key_stage"].unique()) if key_stage is None else [key_stage]
        self.cohorts = []
        for ks in stages:
            rows = mine[mine["key_stage"] == ks]
            if rows.empty:
                raise KeyError(f"{self.school_name} has no {ks} pupils")
            y = int(rows["year"].max()) if year is None else int(year)
            if not (rows["year"] == y).any():
                raise KeyError(f"{self.school_name} has no {ks} pupils in {y} "
                               f"(years: {sorted(rows['year'].unique())})")
            self.cohorts.append(Cohort(ks, y))
        if analysis is not None and (analysis.school_id, analysis.threshold) != (self.school_id, self.threshold):
            raise ValueError(f"the analysis given is of school {analysis.school_id} at threshold {analysis.threshold}, "
                             f"not of {self.school_id} at {self.threshold}")
        self._analysis = analysis
        self._results: SchoolResults | None = None
        self._priorities: dict[tuple[str, int], pd.DataFrame] = {}  # (key stage, year) -> priorities
        self.activities_source, self.activities_mapping = activities, activities_mapping
        self.assessments_source, self.assessments_mapping = assessments, assessments_mapping
        self._activities = None
        self._activity_notes: list[str] = []

    # ----------------------------------------------------------- data
    @property
    def analysis(self) -> SchoolAnalysis:
        """:func:`gaptools.analyse` of this school, as given or worked out once (with ``out_dir``, kept there
        for the school's other notebooks: :mod:`gaptools.analysis.cache`)."""
        if self._analysis is None:
            from ..analysis.analyse import analyse

            self._analysis = analyse(self.pupils, self.school_id, threshold=self.threshold, cache=self.out_dir)
        return self._analysis

    @property
    def results(self):
        """The :class:`~gaptools.analysis.model.SchoolResults` of :attr:`analysis` (results.json is written from it)."""
        if self._results is None:
            self._results = self.analysis.to_results()
        return self._results

    @property
    def profile(self) -> pd.DataFrame:
        """The cohort profile (:attr:`analysis`)."""
        return self.analysis.profile

    @property
    def table(self) -> pd.DataFrame:
        """The results model (:data:`~gaptools.analysis.results.ResultsModel`): what every table,
        chart and sentence here reads."""
        return self.analysis.gaps

    def _gaps(self, c: Cohort, *, comparison=None, whole=True, year=True):
        return cohort_rows(self.table, c, comparison=comparison, whole=whole, year=year)

    def _each(self, fn):
        return each_cohort(self.cohorts, fn)

    def profile_data(self, c: Cohort | None = None) -> pd.DataFrame:
        c = c or self.cohorts[0]
        p = self.profile
        return p[(p["key_stage"] == c.key_stage) & (p["year"] == c.year)]

    def cohort_size(self, c: Cohort) -> tuple[int, int]:
        """Cohort ``c``'s pupils and disadvantaged pupils (:attr:`SchoolAnalysis.cohorts`)."""
        k = self.analysis.cohorts
        k = k[(k["key_stage"] == c.key_stage) & (k["year"] == c.year)]
        return (int(k["pupils"].iloc[0]), int(k["disadvantaged"].iloc[0])) if len(k) else (0, 0)

    def _no_comparison_group(self, c: Cohort) -> bool:
        n, d = self.cohort_size(c)
        return d in (0, n)

    @property
    def activity_data(self) -> pd.DataFrame | None:
        """:func:`gaptools.activity_impact` of this school's activities (None without a register)."""
        if self._activities is None and self.activities_source is not None:
            from .activities import school_activities

            self._activities, self._activity_notes = school_activities(
                self.pupils, self.activities_source, self.activities_mapping, self.school_id, self.threshold)
        return self._activities

    @property
    def in_year_data(self) -> pd.DataFrame | None:
        """:func:`gaptools.in_year_gaps` of this school's data drops (None without them)."""
        if self.assessments_source is None:
            return None
        if getattr(self, "_in_year", None) is None:
            from .in_year import InYearReport

            self._in_year = InYearReport(self.assessments_source, self.school_id, mapping=self.assessments_mapping,
                                         threshold=self.threshold).table
        return self._in_year
