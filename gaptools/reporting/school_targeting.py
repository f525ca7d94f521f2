"""The targeting sections of a school report (notebook 03): priorities, approaches, the pupils to
focus on and the strategy."""
from __future__ import annotations

import pandas as pd

from ..domain.formatting import count, md_text
from . import tables
from .display import Section, Table, markdown
from .school_data import Cohort, SchoolData


def year_group_lists(t: pd.DataFrame, limit: int) -> list:
    """The pupil list as one heading and table per year group (the soonest results first)."""
    from ..targeting.pupils import staff_list

    out = []
    for year, rows in t.groupby("year", sort=True):
        groups = ", ".join(f"Year {int(g)}" for g in sorted(rows["year_group"].dropna().unique())) \
            or "year group unknown"
        more = f" (the first {limit} of {len(rows)}; all are in `targets.csv`)" if len(rows) > limit else ""
        out += [markdown(f"**{groups}**, results in summer {int(year)}: {count(len(rows), 'pupil')}{more}"),
                Table(staff_list(rows.head(limit)))]
    return out


class TargetingSections(SchoolData):
    """What to do about the gaps: a table or paragraph per method, one per cohort."""

    def priorities_data(self, c: Cohort | None = None) -> pd.DataFrame:
        from ..targeting.priorities import priorities

        c = c or self.cohorts[0]
        key = (c.key_stage, c.year)
        if key not in self._priorities:
            self._priorities[key] = priorities(self.pupils, self.school_id, year=c.year, key_stage=c.key_stage,
                                               threshold=self.threshold, gaps=self.table)
        return self._priorities[key]

    def all_priorities(self) -> pd.DataFrame:
        """:func:`gaptools.priorities` of every cohort of the page, one after another."""
        parts = [p for p in (self.priorities_data(c) for c in self.cohorts) if len(p)]
        return pd.concat(parts, ignore_index=True) if parts else self.priorities_data(self.cohorts[0])

    def priorities(self):
        """The priority areas of each cohort (:func:`gaptools.tables.priorities`)."""
        return tables.priorities(self.all_priorities(), self.cohorts, gaps=self.table, sizes=self.analysis.cohorts)

    def approaches(self):
        """The whole-school foundations once, then for each priority the approaches matched to its need
        (:func:`gaptools.tables.approaches`)."""
        return tables.approaches(self.all_priorities(), self.cohorts)

    def weights(self):
        """The ranking rule in one sentence, and its points (:func:`gaptools.tables.weights`)."""
        return tables.weights()

    def targets_data(self, c: Cohort | None = None) -> pd.DataFrame:
        """The current pupils to focus on for cohort ``c``'s priorities (empty without current pupils)."""
        from ..targeting.pupils import target_pupils

        c = c or self.cohorts[0]
        if self.current is None:
            return pd.DataFrame(columns=["rank", "pupil_id", "score", "reasons"])
        return target_pupils(self._on_roll(c)[0], self.school_id, key_stage=c.key_stage,
                             priorities=self.priorities_data(c))

    def _on_roll(self, c: Cohort) -> tuple[pd.DataFrame, int]:
        """The school's current pupils of ``c``'s key stage whose results are still to come, and how many
        rows of the current table are left out (:func:`gaptools.targeting.pupils.on_roll`)."""
        from ..targeting.pupils import on_roll

        assert self.current is not None  # (asked for only where the report has current pupils)
        return on_roll(self.current, self.pupils, self.school_id, c.key_stage)

    def targets(self, limit: int = 40):
        """The current pupils to focus on, as staff read the list."""
        from ..targeting.pupils import staff_list

        def one(c):
            if self.current is None:
                return markdown("**No pupil is listed:** the list needs the pupils on roll now. Pass a table of "
                                "current pupils (`current` here, `--current` to `gaptools run`): pupils who have "
                                "left are never listed.")
            t = self.targets_data(c)
            mine, left = self._on_roll(c)
            gone = (f" {count(left, 'pupil')} of the current table {'is' if left == 1 else 'are'} left out: their "
                    "year already has results, so "
                    "they have left (check `year` there: the summer their results *will* belong to)." if left else "")
            if t.empty:
                return markdown((f"_No current {md_text(c.key_stage)} pupil in the table of current pupils._"
                                 if mine.empty else "_No current disadvantaged pupil is below a bar in the school's "
                                 "priority areas._") + gone)
            which = ("below a bar in one of the school's priority areas" if len(self.priorities_data(c))
                     else "below a bar in any measure (there is no priority area)")
            if "year_group" in t.columns and t["year_group"].notna().any():  # a tracker: one list per year group
                return Section([markdown(f"{len(t)} current disadvantaged pupils {which}, by year group.{gone}"),
                                *year_group_lists(t, limit)])
            shown = staff_list(t.head(limit))
            more = f" (the first {limit} of {len(t)}; all are in `targets.csv`)" if len(t) > limit else ""
            return Section([markdown(f"{len(t)} current disadvantaged pupils {which}{more}.{gone}"), Table(shown)])
        return self._each(one)

    def strategy(self):
        return self._each(lambda c: markdown(self.strategy_text(c)))

    def strategy_text(self, c: Cohort | None = None) -> str:
        from ..targeting.strategy import strategy_statement

        c = c or self.cohorts[0]
        return strategy_statement(self.pupils, self.school_id, year=c.year, key_stage=c.key_stage,
                                  threshold=self.threshold, priorities=self.priorities_data(c),
                                  gaps=self.table, activities=self.activity_data)

    def activity_review(self):
        """Last year's activities, each against comparable pupils who did not take part."""
        from .activities import review_section

        return self._each(lambda c: review_section(self.activity_data, self._activity_notes, c.key_stage, c.year,
                                                   self.threshold))
