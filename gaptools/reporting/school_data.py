"""One school's data as its report reads it: the pupils loaded, the cohorts chosen, the results
(computed once, or read from the cache an earlier notebook wrote) and the rows of one cohort."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..domain.formatting import academic_year, md_text
from ..domain.reference import reference_fingerprint
from ..domain.suppression import DEFAULT_THRESHOLD
from ..io.byschool import ATTR, TrustContext
from .display import Section, markdown

if TYPE_CHECKING:
    from ..analysis.model import SchoolResults


def load_data(data, mapping, current: bool = False, school=None):
    """The pupil table; with ``school``, from a run's table by school, that school's rows alone (with the
    trust's context: every figure as the whole table gives it), or the whole table from any other data."""
    if isinstance(data, pd.DataFrame) and "gaptools_sources" in data.attrs:
        return data
    if school is not None and not isinstance(data, pd.DataFrame):
        from ..io.byschool import read_school

        rows = read_school(data, school)
        if rows is not None:
            return rows
    import warnings

    from ..errors import GaptoolsWarning
    from ..io.loading import load_pupils

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        return load_pupils(data, mapping, current=current)


@dataclass
class Cohort:
    key_stage: str
    year: int


def no_measure_text(c: Cohort) -> str:
    return (f"_No outcome measure in the data for {md_text(c.key_stage)} {academic_year(c.year)}: the file has "
            "none of the outcome columns the data contract lists for this key stage (or none a mapping declares), "
            "so no gap can be measured or charted._")


class SchoolData:
    """The data behind :class:`~gaptools.reporting.school.SchoolReport` (its parameters are
    documented there): the sections it shows read only what this gives."""

    def __init__(self, data, school_id, *, year=None, key_stage=None, mapping=None,
                 threshold: int = DEFAULT_THRESHOLD, out_dir=None, current=None, current_mapping=None,
                 activities=None, activities_mapping=None, assessments=None, assessments_mapping=None):
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
        self._results: SchoolResults | None = None
        self._profile: pd.DataFrame | None = None
        self._pupils_digest: int | None = None
        self._priorities: dict[tuple[str, int], pd.DataFrame] = {}  # (key stage, year) -> priorities
        self.activities_source, self.activities_mapping = activities, activities_mapping
        self.assessments_source, self.assessments_mapping = assessments, assessments_mapping
        self._activities = None
        self._activity_notes: list[str] = []

    # ----------------------------------------------------------- data
    @property
    def results(self):
        """The :class:`~gaptools.results.SchoolResults` (computed once; with ``out_dir``,
        shared with the school's other notebooks through a cache file there)."""
        if self._results is None:
            cached = self._read_cache()
            if cached is not None:
                self._results = cached
            else:
                from ..analysis.results import analyse_school

                # the profile, if this notebook has shown it already, is not worked out again
                self._results = analyse_school(self.pupils, self.school_id, threshold=self.threshold,
                                               profile=self._profile)
                self._write_cache()
        return self._results

    @property
    def profile(self) -> pd.DataFrame:
        """The cohort profile alone (no statistics needed, so it is quick); from the school's
        results when they are at hand (computed here, or cached by an earlier notebook)."""
        if self._results is None and self._profile is None:
            self._results = self._read_cache()
        if self._results is not None:
            return self._results.profile
        if self._profile is None:
            from ..analysis.profile import cohort_profile

            self._profile = cohort_profile(self.pupils, school_id=self.school_id, threshold=self.threshold)
        return self._profile

    CACHE = ".gaptools-analysis.pkl"

    def _cache_key(self):
        from .. import __version__

        if self._pupils_digest is None:  # the table does not change under a report: hashed once
            self._pupils_digest = int(pd.util.hash_pandas_object(self.pupils, index=False).sum())
        trust = self.pupils.attrs.get(ATTR)  # the trust's context of a school's rows: their figures depend on it
        return (__version__, self.school_id, self.threshold, self._pupils_digest, len(self.pupils),
                reference_fingerprint(), trust.digest() if isinstance(trust, TrustContext) else None)

    def _read_cache(self):
        import pickle

        if self.out_dir is None or not (self.out_dir / self.CACHE).is_file():
            return None
        try:
            with open(self.out_dir / self.CACHE, "rb") as fh:
                key, results = pickle.load(fh)
        except Exception:  # a damaged or old cache is simply recomputed
            return None
        return results if key == self._cache_key() else None

    def _write_cache(self):
        import os
        import pickle
        import tempfile

        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.out_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((self._cache_key(), self._results), fh)
        os.replace(tmp, self.out_dir / self.CACHE)

    @property
    def table(self) -> pd.DataFrame:
        """The results model (:data:`~gaptools.analysis.results.ResultsModel`): what every table,
        chart and sentence here reads."""
        r = self.results
        if r.table is None:
            from ..analysis.results import results_table

            r.table = results_table(r.gaps, r.trends)
        return r.table

    def _gaps(self, c: Cohort, *, comparison=None, whole=True, year=True):
        g = self.table
        g = g[g["key_stage"] == c.key_stage]
        if year:
            g = g[g["year"] == c.year]
        if comparison:
            g = g[g["comparison"] == comparison]
        if whole:
            g = g[g["subgroup"].isna()]
        return g

    def _each(self, fn):
        out = Section()
        for c in self.cohorts:
            if len(self.cohorts) > 1:
                out.append(markdown(f"#### {md_text(c.key_stage)} {academic_year(c.year)}"))
            out.append(fn(c))
        return out

    def profile_data(self, c: Cohort | None = None) -> pd.DataFrame:
        c = c or self.cohorts[0]
        p = self.profile
        return p[(p["key_stage"] == c.key_stage) & (p["year"] == c.year)]

    def _no_comparison_group(self, c: Cohort) -> bool:
        rows = self.pupils[(self.pupils["school_id"] == self.school_id) & (self.pupils["key_stage"] == c.key_stage)
                           & (self.pupils["year"] == c.year)]
        d = int(rows["disadvantaged"].astype(bool).sum())
        return d in (0, len(rows))

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
