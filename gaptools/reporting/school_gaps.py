"""The gap sections of a school report (notebook 02): every measure's gap, its trend and its groups."""
from __future__ import annotations

import pandas as pd

from ..domain.formatting import academic_year, amount, cap, is_yes, md_text, with_interval
from ..domain.labels import characteristic_label, measure_label, subgroup_label
from ..domain.reference import national_on_file
from ..domain.registry import headline, percent_scores
from .display import markdown
from .school_data import Cohort, SchoolData, no_measure_text
from .school_rows import by_importance, folded, people_table


class GapSections(SchoolData):
    """The gaps: a table, chart or paragraph per method, one per cohort."""

    def findings(self, limit: int = 12):
        """The findings, most important first, as a bulleted list."""
        def one(c):
            f = self.results.findings
            f = f[(f["key_stage"] == c.key_stage) & (f["year"] == c.year)].head(limit)
            if f.empty:
                return markdown(no_measure_text(c))
            return markdown("\n".join(f"- {md_text(t)}" for t in f["text"]))
        return self._each(one)


    def gap_table(self, keep: int = 8):
        """Every measure, in school and against national other pupils, with intervals: the clear
        gaps first (at most ``keep`` rows shown), the rest folded."""
        def one(c):
            g = self._gaps(c)
            if g.empty:
                return markdown(no_measure_text(c))
            g = by_importance(g)
            n_clear = int((g["clear"].map(is_yes) & (g["gap"] > 0)).sum())
            return folded(people_table(g, self.threshold), min(keep, n_clear), "measures")
        return self._each(one)

    def gap_chart(self, units=None, title=None):
        """Bars of the in-school gaps by subject (:func:`subjects.subject_rows`; or the measures in ``units``)."""
        from .charts import gap_bars
        from .subjects import no_subjects_text, subject_rows

        def one(c):
            g = subject_rows(self._gaps(c, comparison="in_school"), c.key_stage, units)
            if g.empty:
                return markdown(no_subjects_text(c.key_stage))
            unit = g["unit"].value_counts().index[0]
            return gap_bars(g[g["unit"] == unit], title=title or _gap_title(g[g["unit"] == unit]))
        return self._each(one)

    def rate_chart(self, title=None):
        from .charts import gap_bars

        def one(c):
            g = self._gaps(c, comparison="in_school")
            g = g[g["unit"] == "%"]
            g = g[~g["measure"].isin(percent_scores())]  # a score in per cent (attendance) is no yes/no
            return gap_bars(g, title=title or _gap_title(g)) if len(g) else markdown("_No yes/no measures._")
        return self._each(one)

    def means_chart(self, units=None, title=None):
        from .charts import group_means
        from .subjects import subject_rows

        def one(c):
            g = subject_rows(self._gaps(c, comparison="in_school"), c.key_stage, units)
            return group_means(g, title=title) if len(g) else markdown("")  # the gap chart said why
        return self._each(one)

    def national_table(self):
        """Disadvantaged pupils against each national group on file (other, all or disadvantaged pupils)."""
        def one(c):
            g = self._gaps(c)
            g = g[g["comparison"].str.startswith("national_")]
            if g.empty:
                return markdown(f"_No national figure is on file for {md_text(c.key_stage)} {academic_year(c.year)}: "
                                f"{national_on_file(c.key_stage)} To compare, add the DfE's national file with "
                                "`gaptools reference import FILE`._")
            # the reference column holds the national figure of the group named beside it
            return people_table(g, self.threshold).rename(columns={"Others": "National figure"})
        return self._each(one)

    def subgroup_table(self, split: str = "prior_band"):
        def one(c):
            g = self._gaps(c, comparison="in_school", whole=False)
            g = g[g["subgroup"].fillna("").str.startswith(split + "=")]
            if g.empty:  # (for prior attainment the chart above has said so)
                return markdown("" if split == "prior_band" else _no_split_text(split, c))
            g = by_importance(g)
            t = people_table(g, self.threshold)
            t.insert(1, "Group", [cap(subgroup_label(v)) for v in g["subgroup"]])
            return folded(t, int((g["clear"].map(is_yes) & (g["gap"] > 0)).sum()), "rows")
        return self._each(one)

    def subgroup_chart(self, measure=None, split: str = "prior_band"):
        from .charts import subgroup_bars

        def one(c):
            m = measure or _headline_measure(self._gaps(c, comparison="in_school"))
            if m is None:
                return markdown(no_measure_text(c))
            g = self._gaps(c, comparison="in_school", whole=False)
            g = g[(g["measure"] == m) & g["subgroup"].fillna("").str.startswith(split + "=")]
            if g.empty:
                return markdown(_no_split_text(split, c))
            label = measure_label(m, g["label"].iloc[0])
            clear = g[g["clear"].fillna(False).astype(bool) & (g["gap"] > 0)]
            title = (f"The {label} gap by {characteristic_label(split)}: clear for "
                     + ", ".join(subgroup_label(v) for v in clear["subgroup"]) if len(clear)
                     else f"The {label} gap by {characteristic_label(split)}: no group's gap is clear on its own")
            return subgroup_bars(g, title=title)
        return self._each(one)

    def trend_chart(self, measures=None):
        from .charts import trend_lines

        def one(c):
            g = self._gaps(c, comparison="in_school", year=False)
            m = measures or [_headline_measure(g[g["year"] == c.year])]
            if m == [None]:
                return markdown(no_measure_text(c))
            g = g[g["measure"].isin(m) & ~g["suppressed"] & (g["year"] <= c.year)]
            if g["year"].nunique() < 2:
                return markdown("_Only one year of results (with enough pupils): no trend to show yet._")
            # the title is the model's verdict for the first measure in the cohort's year
            now = g[(g["year"] == c.year) & (g["measure"] == m[0])]
            word = now["trend"].iloc[0] if len(now) else ""
            label = measure_label(m[0], g[g["measure"] == m[0]]["label"].iloc[0]) if (g["measure"] == m[0]).any() \
                else g["label"].iloc[0]
            since = f" since {int(now['trend_from'].iloc[0])}" if len(now) and word else ""
            title = {"closing": f"The {label} gap is closing{since}",
                     "widening": f"The {label} gap is widening{since}",
                     "no clear change": f"The {label} gap: no clear change{since}"}.get(
                word, f"The {label} gap over the years (no verdict: a year is withheld)")
            return trend_lines(g, title=title)
        return self._each(one)

    def trend_table_data(self, c: Cohort | None = None) -> pd.DataFrame:
        """The results model's whole-cohort, in-school rows of the cohort's year that have a trend verdict."""
        c = c or self.cohorts[0]
        t = self._gaps(c, comparison="in_school")
        return t[t["trend"].notna()]

    def trend_table(self):
        """Which gaps are closing or widening: the model's verdict for each measure (only clear
        changes are called either)."""
        def one(c):
            t = self.trend_table_data(c)
            if self._gaps(c).empty:
                return markdown(no_measure_text(c))
            if t.empty:
                return markdown("_Only one year of results (with enough pupils): no trend yet._")
            rows = []
            for _, r in t.iterrows():
                u, m, k = r["unit"], r["measure"], r["kind"]
                rows.append({"Measure": cap(measure_label(m, r["label"])), "From": int(r["trend_from"]),
                             "To": int(r["year"]),
                             "Gap then": amount(r["gap"] - r["trend_change"], u, m, k, short=True),
                             "Gap now": amount(r["gap"], u, m, k, short=True),
                             "Change (95% interval)": with_interval(r["trend_change"], r["trend_ci_low"],
                                                                    r["trend_ci_high"], u, m, k),
                             "Verdict": r["trend"]})
            out = pd.DataFrame(rows)
            order = {"widening": 0, "closing": 1, "no clear change": 2}
            out = out.sort_values("Verdict", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
            return folded(out, int((out["Verdict"] != "no clear change").sum()), "measures with no clear change")
        return self._each(one)

    def gap_index_table(self):
        def one(c):
            gi = self.results.gap_index
            gi = gi[gi["key_stage"] == c.key_stage]
            if gi.empty:
                return markdown("_The gap index needs English and maths grades (KS4) or reading and maths "
                                "scores (KS2)._")
            from .indextable import gap_index_frame

            return gap_index_frame(gi)  # beside the national index only when ranked across a trust
        return self._each(one)


def _headline_measure(g: pd.DataFrame) -> str | None:
    """The measure a chart leads with: a headline one if the cohort has it, else any shown one; None if none."""
    for m in headline("lead"):
        if m in set(g["measure"]):
            return m
    shown = g[~g["suppressed"]] if "suppressed" in g.columns else g
    return shown["measure"].iloc[0] if len(shown) else (g["measure"].iloc[0] if len(g) else None)


def _gap_title(g: pd.DataFrame) -> str:
    clear = g[g["clear"].fillna(False).astype(bool) & (g["gap"] > 0)]
    if clear.empty:
        return "No clear gap in these measures"
    top = clear.sort_values("gap", ascending=False).iloc[0]
    return (f"Widest clear gap: {measure_label(top['measure'], top['label'])}, "
            f"{amount(top['gap'], top['unit'], top['measure'], top['kind'])}")


def _no_split_text(split: str, c: Cohort) -> str:
    if split == "prior_band":
        if c.key_stage == "KS4" and c.year in (2025, 2026):
            return (f"_No prior attainment for {c.key_stage} {academic_year(c.year)}: this cohort sat no KS2 tests "
                    "(2020 and 2021 were cancelled)._")
        return f"_No prior attainment in the data for {md_text(c.key_stage)} {academic_year(c.year)}._"
    return f"_No {characteristic_label(split)} data for this cohort._"
