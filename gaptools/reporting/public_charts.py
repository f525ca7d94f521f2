"""``gaptools.charts``: every chart an analyst can draw from :func:`gaptools.analyse`'s DataFrames.

The drawing functions (:mod:`gaptools.reporting.charts`: ``gap_bars``, ``group_means``,
``trend_lines``, ``subgroup_bars``, ``profile_bars``) take rows of the results model and
return a matplotlib Figure; the pages' charts (:mod:`gaptools.reporting.cohort_charts`:
``subject_gaps``, ``rate_gaps``, ``subject_means``, ``split_gaps``, ``gap_trend``,
``profile_chart``) choose the rows and title of each chart as pages 01 and 02 do, one a
cohort. None changes matplotlib's backend or global state.
"""
from __future__ import annotations

from .charts import (
    CLOSING,
    DISADVANTAGED,
    NATIONAL,
    OTHER,
    WIDENING,
    gap_bars,
    group_means,
    profile_bars,
    subgroup_bars,
    themed,
    trend_lines,
)
from .cohort_charts import gap_trend, profile_chart, rate_gaps, split_gaps, subject_gaps, subject_means

__all__ = ["CLOSING", "DISADVANTAGED", "NATIONAL", "OTHER", "WIDENING", "gap_bars", "gap_trend", "group_means",
           "profile_bars", "profile_chart", "rate_gaps", "split_gaps", "subgroup_bars", "subject_gaps",
           "subject_means", "themed", "trend_lines"]
