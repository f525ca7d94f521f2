"""``gaptools.analyse``: one school's whole analysis, as an analyst asks for it.

The same analysis every page and ``results.json`` show (:func:`analyse_school`
is this with its defaults), with the choices an analyst makes in JupyterLab:
another split (``eal``, ``ethnicity``, ``fsm``, a column of their own), another
threshold, some measures only, one key stage, the results as they stood in an
earlier year. Every table is a DataFrame of the results model: ``clear``, the
units, the trend verdict and ``withheld_reason`` are always there, so a chart
or table of the analyst's own never needs to work them out again.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import pandas as pd

from ..domain.columns import DERIVED, VALUE_ADDED_PREFIX
from ..domain.measures import STANDARD_MEASURES, measures_for
from ..domain.registry import measure_splits
from ..domain.suppression import DEFAULT_THRESHOLD, THRESHOLD_ATTR
from ..errors import GaptoolsError, UnknownSchoolError
from .cohort import cohort_sizes
from .findings import findings as make_findings
from .gapindex import gap_index
from .gaps import SPLITS, gap_table
from .model import SchoolResults, results_table
from .profile import cohort_profile
from .trends import gap_trends
from .trustcontext import up_to_year

#: Columns that are never a split: ids, names, outcomes and what is derived from them.
NOT_SPLITS = {"school_id", "school_name", "pupil_id", "year", "key_stage", "disadvantaged", "forename", "surname",
              "prior_attainment", *STANDARD_MEASURES, "writing_ta", "year_group", "form",
              "academic_year"}
#: A column with more distinct values than this is no split (a score, an id).
MAX_LEVELS = 50


class AnalysisChoiceError(GaptoolsError, ValueError):
    """A split, measure, key stage or year that the data does not have; the message names what it has."""


@dataclass
class SchoolAnalysis:
    """One school's analysis. Every table is tidy and carries the results model's columns.

    Attributes
    ----------
    gaps : DataFrame
        The results model: a row per key stage, year, measure, comparison and
        subgroup, with ``n_*``, ``mean_*``, ``gap``, ``ci_low``, ``ci_high``,
        ``clear``, ``q_value``, ``label``, ``unit``, ``trend`` (on the latest
        year's rows) and ``withheld_reason``. Years up to the one analysed (the
        earlier ones give the trend).
    profile : DataFrame
        :func:`gaptools.cohort_profile` of the school.
    trends : DataFrame
        :func:`gaptools.gap_trends`: the change in each gap.
    findings : DataFrame
        The findings, ranked, in plain English.
    gap_index : DataFrame
        The DfE-style disadvantage gap index.
    cohorts : DataFrame
        :func:`gaptools.analysis.cohort.cohort_sizes`: each key stage and year's
        pupils and disadvantaged pupils.
    """

    school_id: str
    school_name: str
    threshold: int
    splits: tuple[str, ...]
    gaps: pd.DataFrame
    profile: pd.DataFrame
    trends: pd.DataFrame
    findings: pd.DataFrame
    gap_index: pd.DataFrame
    detail: pd.DataFrame = field(repr=False, default=None)
    cohorts: pd.DataFrame = field(repr=False, default=None)

    def to_results(self):
        """The :class:`~gaptools.analysis.model.SchoolResults` that ``results.json`` is written from."""
        return SchoolResults(self.school_id, self.school_name, self.threshold, self.detail, self.gap_index,
                             self.trends, self.findings, self.profile, self.gaps)

    def __repr__(self) -> str:
        shown = self.gaps[~self.gaps["suppressed"].astype(bool)]
        clear = int(shown["clear"].fillna(False).astype(bool).sum())
        return (f"SchoolAnalysis({self.school_name!r} ({self.school_id}): {len(self.gaps)} gap rows, {clear} clear, "
                f"{int(self.gaps['suppressed'].astype(bool).sum())} withheld; splits {', '.join(self.splits)})")


def split_columns(pupils: pd.DataFrame) -> list[str]:
    """The columns of ``pupils`` that can split a gap: categories with at most :data:`MAX_LEVELS` values."""
    out = ["prior_band"] if "prior_attainment" in pupils.columns else []
    outcomes = set(DERIVED) | set(STANDARD_MEASURES) | set(pupils.attrs.get("gaptools_measures", {}))
    for c in pupils.columns:
        if c in NOT_SPLITS or c in outcomes or c.startswith(("grade_", VALUE_ADDED_PREFIX)) or c in out \
                or c.endswith("_code"):
            continue
        s = pupils[c]
        if pd.api.types.is_float_dtype(s) and not s.dropna().isin([0, 1]).all():
            continue
        if s.nunique(dropna=True) <= MAX_LEVELS:
            out.append(c)
    return out


def analyse(pupils: pd.DataFrame, school_id, *, year: int | None = None, key_stage: str | None = None,
            threshold: int = DEFAULT_THRESHOLD, splits=None, measures=None,
            profile: pd.DataFrame | None = None, cache=None) -> SchoolAnalysis:
    """Analyse one school's gaps: every figure with its interval, its verdict and why any is withheld.

    Parameters
    ----------
    pupils : DataFrame
        From :func:`gaptools.load_pupils`: the school's pupils and the rest of
        the trust (value added and the gap index compare with the trust); or
        the school's rows alone read with the trust's context
        (:func:`gaptools.io.byschool.read_school`, as a run's notebooks read them).
    school_id : str
    year : int, optional
        The results year to analyse (2025 = 2024/25), as if later years were not
        yet in the data; default the latest.
    key_stage : str, optional
        ``"KS2"`` or ``"KS4"``; default every key stage the school has.
    threshold : int, default 6
        Groups smaller than this are withheld, with secondary suppression.
    splits : sequence of str, optional
        The characteristics each in-school gap is repeated within (default
        ``prior_band``, ``sex``, ``sen``, ``persistent_absence``): any category
        column of ``pupils`` (``eal``, ``ethnicity``, ``fsm``, a column of the
        school's own); :func:`split_columns` lists them.
    measures : sequence of str, optional
        Only these measures (default every measure the data has).
    profile : DataFrame, optional
        :func:`gaptools.cohort_profile` of the school with the same choices, if
        already worked out (a notebook that has shown it); computed otherwise.
    cache : path, optional
        A folder (a school's ``out_dir``) where the analysis is kept, and read back by
        the school's other notebooks while the data and these choices are the same
        (:mod:`gaptools.analysis.cache`); default: nothing kept.

    Returns
    -------
    SchoolAnalysis

    Raises
    ------
    UnknownSchoolError
        ``school_id`` is not in ``pupils`` (the closest ids are named).
    AnalysisChoiceError
        A split, measure, key stage or year the data does not have (what it has is named).
    """
    school_id = str(school_id)
    if cache is not None:
        from .cache import cache_key, read_cached, write_cached

        key = cache_key(pupils, (school_id, threshold, year, key_stage, _frozen(splits), _frozen(measures)))
        kept = read_cached(cache, key)
        if kept is None:
            kept = analyse(pupils, school_id, year=year, key_stage=key_stage, threshold=threshold, splits=splits,
                           measures=measures, profile=profile)
            write_cached(cache, key, kept)
        return kept
    rows = pupils[pupils["school_id"] == school_id]
    if rows.empty:
        known = sorted(pupils["school_id"].astype(str).unique())
        close = difflib.get_close_matches(school_id, known, n=5, cutoff=0.5) or known[:5]
        raise UnknownSchoolError(f"school {school_id!r} is not in the data; closest ids: {', '.join(close)}")
    chosen = splits is not None  # (the default splits are used where the data has them, as on the pages)
    splits = tuple(SPLITS if splits is None else [splits] if isinstance(splits, str) else splits)
    allowed = split_columns(pupils) if chosen else []
    unknown = [s for s in splits if s not in allowed and s not in measure_splits()] if chosen else []
    if unknown:
        raise AnalysisChoiceError(f"no such split: {', '.join(map(repr, unknown))}; the data can be split by "
                                  + ", ".join(allowed + list(measure_splits())))
    if key_stage is not None and key_stage not in set(rows["key_stage"].astype(str)):
        raise AnalysisChoiceError(f"{school_id} has no {key_stage!r} pupils; it has "
                                  + ", ".join(sorted(rows["key_stage"].astype(str).unique())))
    if year is not None:
        years = sorted(int(y) for y in rows["year"].dropna().unique())
        if int(year) not in years:
            raise AnalysisChoiceError(f"{school_id} has no results for {year}; it has {', '.join(map(str, years))}")
        # as if later years were not yet in the data
        pupils = up_to_year(pupils[pupils["year"] <= int(year)], int(year))
    if measures is not None:
        measures = [measures] if isinstance(measures, str) else list(measures)
        have = {m.name for ks in rows["key_stage"].astype(str).unique() for m in measures_for(pupils, ks)}
        missing = [m for m in measures if m not in have]
        if missing:
            raise AnalysisChoiceError(f"no such measure: {', '.join(map(repr, missing))}; {school_id} has "
                                      + ", ".join(sorted(have)))
    detail = gap_table(pupils, school_id=school_id, threshold=threshold, key_stage=key_stage, measures=measures,
                       subgroups=splits, detail=True)
    index = gap_index(pupils, school_id=school_id, threshold=threshold, key_stage=key_stage)
    trends = gap_trends(detail)
    table = results_table(detail, trends)
    table.attrs[THRESHOLD_ATTR] = threshold  # what a table of it says of withheld rows (gaptools.tables)
    found = make_findings(table, trends, index, threshold=threshold)
    if profile is None:
        # with the gap table beside it: a count the gaps give is shown, and withheld ones are protected
        profile = cohort_profile(pupils, school_id=school_id, key_stage=key_stage, threshold=threshold,
                                 gaps=detail if splits == SPLITS and measures is None else True)
    return SchoolAnalysis(school_id, str(rows["school_name"].iloc[0]), threshold, splits, table, profile, trends,
                          found, index, detail, cohort_sizes(pupils, school_id))


def _frozen(choice):
    """A split or measure choice as a cache key's part (one name, a list of them, or None)."""
    return None if choice is None else (choice,) if isinstance(choice, str) else tuple(choice)
