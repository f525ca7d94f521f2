"""The gap sections of a school report (notebook 02): every measure's gap, its trend and its groups."""
from __future__ import annotations

import pandas as pd

from . import tables
from .school_data import Cohort, SchoolData


class GapSections(SchoolData):
    """The gaps: a table, chart or paragraph per method, one per cohort."""

    def findings(self, limit: int = 12):
        """The findings, most important first, as a bulleted list (:func:`gaptools.tables.findings`)."""
        return tables.findings(self.results.findings, self.cohorts, limit=limit)

    def gap_table(self, keep: int = 8):
        """Every measure, in school and against national other pupils, with intervals: the clear
        gaps first (at most ``keep`` rows shown), the rest folded (:func:`gaptools.tables.measures`)."""
        return tables.measures(self.table, self.cohorts, threshold=self.threshold, keep=keep)

    def gap_chart(self, units=None, title=None):
        """Bars of the in-school gaps by subject (:func:`gaptools.charts.subject_gaps`)."""
        from .cohort_charts import subject_gaps

        return subject_gaps(self.table, self.cohorts, units=units, title=title)

    def rate_chart(self, title=None):
        """Bars of the yes/no measures' gaps (:func:`gaptools.charts.rate_gaps`)."""
        from .cohort_charts import rate_gaps

        return rate_gaps(self.table, self.cohorts, title=title)

    def means_chart(self, units=None, title=None):
        """Both groups' averages by subject (:func:`gaptools.charts.subject_means`)."""
        from .cohort_charts import subject_means

        return subject_means(self.table, self.cohorts, units=units, title=title)

    def subgroup_chart(self, measure=None, split: str = "prior_band"):
        """The headline gap (or ``measure``'s) within each group of ``split`` (:func:`gaptools.charts.split_gaps`)."""
        from .cohort_charts import split_gaps

        return split_gaps(self.table, self.cohorts, measure=measure, split=split)

    def trend_chart(self, measures=None):
        """The headline gap (or ``measures``') over the years (:func:`gaptools.charts.gap_trend`)."""
        from .cohort_charts import gap_trend

        return gap_trend(self.table, self.cohorts, measures=measures)

    def national_table(self):
        """Disadvantaged pupils against each national group on file (:func:`gaptools.tables.national`)."""
        return tables.national(self.table, self.cohorts, threshold=self.threshold)

    def subgroup_table(self, split: str = "prior_band"):
        """The gaps within each group of ``split`` (:func:`gaptools.tables.subgroups`)."""
        return tables.subgroups(self.table, split, self.cohorts, threshold=self.threshold)

    def trend_table_data(self, c: Cohort | None = None) -> pd.DataFrame:
        """The results model's whole-cohort, in-school rows of the cohort's year that have a trend verdict."""
        c = c or self.cohorts[0]
        t = self._gaps(c, comparison="in_school")
        return t[t["trend"].notna()]

    def trend_table(self):
        """Which gaps are closing or widening: the model's verdict for each measure (only clear
        changes are called either: :func:`gaptools.tables.trends`)."""
        return tables.trends(self.table, self.cohorts)

    def gap_index_table(self):
        """The DfE-style gap index of each cohort's key stage (:func:`gaptools.tables.gap_index`)."""
        return tables.gap_index(self.results.gap_index, self.cohorts)
