"""What the school notebooks (01-03) show: one method per table, chart or paragraph."""
from __future__ import annotations

import pandas as pd

from .display import Section, markdown
from .school_data import Cohort, SchoolData, load_data
from .school_gaps import GapSections
from .school_profile import ProfileSections
from .school_rows import by_importance, gap_cell, people_table, verdict
from .school_targeting import TargetingSections, year_group_lists

# names other modules and users import from here (the sections now live in modules of their own)
__all__ = ["Cohort", "SchoolData", "SchoolReport", "by_importance", "gap_cell", "load_data", "people_table",
           "verdict", "year_group_lists"]


class SchoolReport(ProfileSections, GapSections, TargetingSections):
    """One school's analysis, as the notebooks show it.

    Parameters
    ----------
    data : path or DataFrame
        The pupil table (the whole trust: it is the reference for value added
        and the gap index).
    school_id : str
    year : int, optional
        Results year (default: the latest).
    key_stage : str, optional
        Key stage (default: every key stage the school has).
    mapping : path, optional
        Mapping file for an MIS export.
    threshold : int, default 6
        Suppression threshold.
    out_dir : path, optional
        Where side outputs (results.json, targets.csv, strategy.md) go.
    current : path or DataFrame, optional
        The pupils on roll now (same contract and mapping as ``data``; ``year``
        = the summer their results will belong to): the pupil list comes from
        these alone. Without it no pupil is listed. It may give ``year_group``
        instead of ``year`` (data contract §1).
    current_mapping : path, optional
        Mapping file for the ``current`` table when its export differs from
        the results' (a tracker); default ``mapping``.
    activities : path or DataFrame, optional
        The activity register (data contract §7): notebook 03 and Part B of the
        strategy then review each activity against comparable pupils.
    activities_mapping : path, optional
        A mapping of the register's own columns.
    assessments : path or DataFrame, optional
        The data drops (data contract §6): the governors' summary then says how
        each year group's gap has moved this year (page 06 has the rest).
    assessments_mapping : path, optional
        A mapping for the assessments export.
    analysis : SchoolAnalysis, optional
        :func:`gaptools.analyse` of this school at ``threshold`` with its default
        splits and measures (a notebook that shows it): every table, chart and
        sentence here renders it. Default: worked out here once (and, with
        ``out_dir``, kept there for the school's other notebooks).
    """

    # ----------------------------------------------------------- the first screen, and words
    def summary(self):
        """The first screen, for governors (:mod:`gaptools.reporting.governors`): the headline gaps beside
        national figures, the priorities and approaches, then the clear gaps and what is closing."""
        from .governors import governors_html
        from .summary import HTMLBlock

        def one(c):
            return HTMLBlock(governors_html(self, c))
        out = Section()
        for c in self.cohorts:
            out.append(one(c))
        return out

    def glossary(self, *terms):
        """The words this page uses, explained (``terms``: keys of the glossary; default: the
        terms of a gap report for this school's key stages)."""
        from .summary import glossary_block

        stages = {c.key_stage for c in self.cohorts}
        default = ["disadvantaged", "interval", "clear", "false discovery", "percentage points", "withheld"]
        if "KS4" in stages:
            default += ["Attainment 8", "Progress 8", "value added", "E&M"]
        if "KS2" in stages:
            default += ["RWM"]
        default += ["gap index", "persistent absence", "SEN", "EAL"]
        return glossary_block(*(terms or default))

    # ----------------------------------------------------------- outputs
    def save(self, *, targets: bool = False):
        """Write side outputs to ``out_dir`` (nothing when it is None): results.json, and
        with ``targets`` this school's targets.csv and strategy.md."""
        if self.out_dir is None:
            return markdown("_No out_dir set: nothing written._")
        from ..analysis.results import write_results
        from ..targeting.pupils import write_targeting_outputs

        if self.activities_source is not None:
            self.results.activities = self.activity_data  # results.json gains its `activities` list
        written = [write_results(self.out_dir, self.results)]
        if targets:
            t = pd.concat([self.targets_data(k) for k in self.cohorts], ignore_index=True)
            text = "\n\n".join(self.strategy_text(k) for k in self.cohorts)
            written += write_targeting_outputs(self.out_dir, self.school_id, t, text)
        return markdown("Written: " + ", ".join(f"`{p.name}`" for p in written))
