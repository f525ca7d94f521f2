"""What the school notebooks (01-03) show: one method per table, chart or paragraph."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..domain.formatting import (
    academic_year,
    amount,
    cap,
    comparator,
    count,
    is_missing,
    is_yes,
    md_text,
    row_trend_text,
    value_text,
    with_interval,
    withheld_text,
)
from ..domain.labels import (
    characteristic_label,
    measure_label,
    measure_order,
    subgroup_label,
    value_label,
)
from ..domain.reference import national_on_file, reference_fingerprint
from ..domain.suppression import DEFAULT_THRESHOLD
from .display import WITHHELD, Section, Table, markdown

if TYPE_CHECKING:
    from ..analysis.model import SchoolResults


def load_data(data, mapping, current: bool = False):
    if isinstance(data, pd.DataFrame) and "gaptools_sources" in data.attrs:
        return data
    import warnings

    from ..errors import GaptoolsWarning
    from ..io.loading import load_pupils

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        return load_pupils(data, mapping, current=current)


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


def verdict(r, threshold: int) -> str:
    """What a row of the results model means, in words (the model's ``clear`` and ``withheld_reason``)."""
    if r["suppressed"]:
        return withheld_text(r.get("withheld_reason"), threshold)
    if is_yes(r.get("clear")):
        return "clear gap" if r["gap"] > 0 else "disadvantaged clearly ahead"
    return "no clear difference"


def gap_cell(r, threshold: int) -> str:
    """A gap with its unit and interval, or why it is withheld."""
    if r["suppressed"]:
        return withheld_text(r.get("withheld_reason"), threshold)
    return with_interval(r["gap"], r["ci_low"], r["ci_high"], r["unit"], r["measure"], r["kind"])


def people_table(gaps: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Rows of the results model as a head teacher reads them (nothing re-derived)."""
    if gaps.empty:
        return pd.DataFrame()
    rows = []
    for _, r in gaps.iterrows():
        shown = not r["suppressed"]
        n_ref = r["n_reference"]
        rows.append({
            "Measure": cap(measure_label(r["measure"], r["label"])),
            "Compared with": comparator(r["comparison"]),
            "Disadvantaged": (value_text(r["mean_disadvantaged"], r["unit"], r["measure"], r["kind"]) if shown
                              else WITHHELD),
            "Others": value_text(r["mean_reference"], r["unit"], r["measure"], r["kind"]) if shown else WITHHELD,
            "Pupils (disadv. / others)": (WITHHELD if not shown else
                                         f"{int(r['n_disadvantaged'])} / " +
                                         (f"{int(n_ref)}" if not is_missing(n_ref) else "national")),
            "Gap (95% interval)": gap_cell(r, threshold),
            "What it means": verdict(r, threshold),
            "Trend": row_trend_text(r) if "trend" in r.index else "",
        })
    return pd.DataFrame(rows)


def by_importance(gaps: pd.DataFrame) -> pd.DataFrame:
    """Rows of the results model in order of importance: clear gaps first (largest standardised
    gap first), then shown rows in reading order (English beside maths), withheld rows last."""
    if gaps.empty:
        return gaps
    clear = gaps["clear"].map(is_yes) & (gaps["gap"] > 0)
    size = gaps["effect_size"].abs() if "effect_size" in gaps.columns else pd.Series(0.0, index=gaps.index)
    key = pd.DataFrame({"clear": ~clear, "withheld": gaps["suppressed"].astype(bool),
                        "size": -size.fillna(0).where(clear, 0),
                        "order": [measure_order(m) for m in gaps["measure"]]}, index=gaps.index)
    return gaps.loc[key.sort_values(["clear", "withheld", "size", "order"], kind="stable").index]


def _folded(table: pd.DataFrame, keep: int, what: str):
    """``table``'s first ``keep`` rows, the rest folded (at least three rows show)."""
    from .summary import Folded

    return Folded(table, keep=max(3, int(keep)), what=what)


@dataclass
class _Cohort:
    key_stage: str
    year: int


class SchoolReport:
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
    """

    def __init__(self, data, school_id, *, year=None, key_stage=None, mapping=None,
                 threshold: int = DEFAULT_THRESHOLD, out_dir=None, current=None, current_mapping=None,
                 activities=None, activities_mapping=None, assessments=None, assessments_mapping=None):
        self.pupils = load_data(data, mapping)
        self.current = None if current is None else load_data(
            current, mapping if current_mapping is None else current_mapping, current=True)
        self.school_id = str(school_id)
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
            self.cohorts.append(_Cohort(ks, y))
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
        return (__version__, self.school_id, self.threshold, self._pupils_digest, len(self.pupils),
                reference_fingerprint())

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

    def _gaps(self, c: _Cohort, *, comparison=None, whole=True, year=True):
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

    # ----------------------------------------------------------- words
    def headline(self):
        """Who this report is about, in one paragraph."""
        def one(c):
            rows = self.pupils[(self.pupils["school_id"] == self.school_id) & (self.pupils["key_stage"] == c.key_stage)
                               & (self.pupils["year"] == c.year)]
            n, d = len(rows), int(rows["disadvantaged"].astype(bool).sum())
            # the cohort size is public: the group sizes are shown only where the profile shows them
            p = self.profile_data(c)
            withheld = bool(p[p["characteristic"] == "all"]["suppressed"].any())
            share = (f"of whom fewer than {self.threshold} are disadvantaged (figures withheld)"
                     if withheld and d < self.threshold
                     else f"of whom fewer than {self.threshold} are not disadvantaged (figures withheld)" if withheld
                     else "every pupil is disadvantaged, so there is no comparison group in school" if d == n
                     else "no disadvantaged pupils, so there is no gap to measure" if d == 0
                     else f"{d} disadvantaged pupils ({d / n:.0%} of the cohort)")
            return markdown(f"**{md_text(self.school_name)}** ({md_text(self.school_id)}), {md_text(c.key_stage)} "
                            f"results of {academic_year(c.year)}: {count(n, 'pupil')}, {share}. Groups of fewer than "
                            f"{self.threshold} pupils are withheld.")
        return self._each(one)

    def findings(self, limit: int = 12):
        """The findings, most important first, as a bulleted list."""
        def one(c):
            f = self.results.findings
            f = f[(f["key_stage"] == c.key_stage) & (f["year"] == c.year)].head(limit)
            if f.empty:
                return markdown(_no_measure_text(c))
            return markdown("\n".join(f"- {md_text(t)}" for t in f["text"]))
        return self._each(one)

    def distinctive(self, limit: int = 5):
        """What sets this school's disadvantaged pupils apart from its other pupils."""
        def one(c):
            p = self.profile_data(c)
            # FSM is part of the definition of disadvantage: trivially "distinctive"
            p = p[~p["characteristic"].isin(["all", "fsm"]) & ~p["suppressed"] & (p["value"] != "unknown")]
            p = p[~p["characteristic"].str.startswith("overlap") | (p["value"] == "yes")]
            if p.empty and not (self.profile_data(c)["characteristic"] != "all").any():
                return markdown("_The data has no pupil characteristics (sex, SEN, EAL, prior attainment, "
                                "attendance) to compare._")
            wide = p.pivot_table(index=["characteristic", "value"], columns="group", values="pct", aggfunc="first")
            if not {"disadvantaged", "other"} <= set(wide.columns):
                if self._no_comparison_group(c):
                    return markdown("_Every pupil in this cohort is disadvantaged, or none is: there is no "
                                    "comparison group in school to set them beside._")
                return markdown(f"_Too few pupils in one group to compare (groups under {self.threshold} "
                                "are withheld)._")
            wide = wide.dropna()
            wide = wide[(wide["disadvantaged"] >= 0.05) | (wide["other"] >= 0.05)]
            wide["ratio"] = (wide["disadvantaged"] + 1e-9) / (wide["other"] + 1e-9)
            wide["score"] = (np.abs(np.log(wide["ratio"].clip(1e-3, 1e3)))
                             * np.sqrt(wide[["disadvantaged", "other"]].max(axis=1)))
            top = (wide[(wide["ratio"] >= 1.5) | (wide["ratio"] <= 1 / 1.5)]
                   .sort_values("score", ascending=False).head(limit))
            if top.empty:
                return markdown("Disadvantaged pupils here look much like their classmates on sex, SEN, EAL, "
                                "prior attainment and attendance.")
            lines = []
            for (char, value), r in top.iterrows():
                what = value if not char.startswith("overlap") else char.split(": ", 1)[1]
                lines.append(f"- **{md_text(what)}**: {r['disadvantaged']:.0%} of disadvantaged pupils against "
                             f"{r['other']:.0%} of other pupils")
            return markdown("\n".join(lines))
        return self._each(one)

    # ----------------------------------------------------------- cohort
    def profile_data(self, c: _Cohort | None = None) -> pd.DataFrame:
        c = c or self.cohorts[0]
        p = self.profile
        return p[(p["key_stage"] == c.key_stage) & (p["year"] == c.year)]

    def profile_table(self, characteristics=None):
        """Counts and shares by characteristic, disadvantaged beside others."""
        def one(c):
            p = self.profile_data(c)
            if characteristics:
                p = p[p["characteristic"].isin(characteristics)]
            return _profile_cells(p)
        return self._each(one)

    def current_profile(self):
        """The pupils on roll now (``current``), one table per cohort: counts and shares by characteristic."""
        if self.current is None:
            return markdown("_To profile the pupils on roll now, pass their table as `current` "
                            "(`--current` to `gaptools run`)._")
        from ..analysis.profile import cohort_profile

        # no gap table of the pupils on roll is shown: nothing beside this profile gives counts away
        p = cohort_profile(self.current, school_id=self.school_id, threshold=self.threshold, gaps=False)
        if p.empty:
            return markdown("_The table of current pupils has no pupil of this school._")
        out = Section()
        for (ks, year), rows in p.groupby(["key_stage", "year"], sort=True):
            out.append(markdown(f"#### {md_text(ks)}, results in {academic_year(int(year))}"))
            out.append(_profile_cells(rows))
        return out

    def profile_chart(self, characteristic: str, title: str | None = None):
        """Shares of disadvantaged and other pupils by one characteristic; the title says the biggest difference."""
        from .charts import profile_bars

        def one(c):
            p = self.profile_data(c)
            return (profile_bars(p, characteristic, title=title or _profile_title(p, characteristic))
                    or markdown(f"_No {characteristic_label(characteristic)} data to chart for "
                                f"{md_text(c.key_stage)} {academic_year(c.year)} (or the groups are too small "
                                "to show)._"))
        return self._each(one)

    def overlaps(self):
        """Disadvantaged pupils who also face a second or third barrier."""
        def one(c):
            p = self.profile_data(c)
            p = p[p["characteristic"].str.startswith("overlap") & (p["value"] == "yes")]
            if p.empty:
                return markdown("_Overlaps need SEN, attendance and prior attainment columns._")
            rows = []
            for name, s in p.groupby("characteristic", sort=False):
                cells = {g: (WITHHELD if r["suppressed"] else f"{int(r['n'])} ({r['pct']:.0%})")
                         for g, r in s.set_index("group").iterrows()}
                rows.append({"Overlap": cap(name.split(": ", 1)[1]),
                             "Disadvantaged pupils": cells.get("disadvantaged", "0"),
                             "Other pupils": cells.get("other", "0")})
            return pd.DataFrame(rows)
        return self._each(one)

    # ----------------------------------------------------------- gaps
    def gap_table(self, keep: int = 8):
        """Every measure, in school and against national other pupils, with intervals: the clear
        gaps first (at most ``keep`` rows shown), the rest folded."""
        def one(c):
            g = self._gaps(c)
            if g.empty:
                return markdown(_no_measure_text(c))
            g = by_importance(g)
            n_clear = int((g["clear"].map(is_yes) & (g["gap"] > 0)).sum())
            return _folded(people_table(g, self.threshold), min(keep, n_clear), "measures")
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
            g = g[g["measure"] != "attendance_pct"]
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
            return _folded(t, int((g["clear"].map(is_yes) & (g["gap"] > 0)).sum()), "rows")
        return self._each(one)

    def subgroup_chart(self, measure=None, split: str = "prior_band"):
        from .charts import subgroup_bars

        def one(c):
            m = measure or _headline_measure(self._gaps(c, comparison="in_school"))
            if m is None:
                return markdown(_no_measure_text(c))
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
                return markdown(_no_measure_text(c))
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

    def trend_table_data(self, c: _Cohort | None = None) -> pd.DataFrame:
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
                return markdown(_no_measure_text(c))
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
            return _folded(out, int((out["Verdict"] != "no clear change").sum()), "measures with no clear change")
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

    # ----------------------------------------------------------- targeting
    def priorities_data(self, c: _Cohort | None = None) -> pd.DataFrame:
        from ..targeting.priorities import priorities

        c = c or self.cohorts[0]
        key = (c.key_stage, c.year)
        if key not in self._priorities:
            self._priorities[key] = priorities(self.pupils, self.school_id, year=c.year, key_stage=c.key_stage,
                                               threshold=self.threshold, gaps=self.table)
        return self._priorities[key]

    def priorities(self):
        def one(c):
            p = self.priorities_data(c)
            if p.empty and self._no_comparison_group(c):
                return markdown("**No priority area from in-school gaps:** there is no comparison group in school "
                                "(every pupil in this cohort is disadvantaged, or none is). See the gap analysis for "
                                "comparisons with national other pupils, and use the pupil list and staff knowledge.")
            if p.empty and self._gaps(c, comparison="in_school").empty:
                return markdown("**No priority area:** " + _no_measure_text(c).strip("_") + " Use the pupil "
                                "list and staff knowledge.")
            if p.empty:
                return markdown("**No priority area:** the data shows no clear gap between disadvantaged and other "
                                "pupils this year once uncertainty is allowed for (or the groups are too small to "
                                "measure). That is not proof there is no need: use the pupil list and staff knowledge.")
            return pd.DataFrame({"Priority": p["rank"], "Area": p["area"].map(cap), "Evidence": p["evidence"],
                                 "Concentrated in": p["concentrated_in"].fillna(""), "Trend": p["trend"].fillna("")})
        return self._each(one)

    def approaches(self):
        """The whole-school foundations once, then for each priority the approaches matched to its need."""
        from ..targeting.evidence import describe, foundations
        from ..targeting.priorities import approaches_table

        tiers = {"teaching": "1 teaching", "targeted": "2 targeted support", "wider": "3 wider"}

        def one(c):
            t = approaches_table(self.priorities_data(c))
            if t.empty:
                return markdown("_No priority, so no approach is matched to one._")
            base = foundations(phase="primary" if c.key_stage == "KS2" else "secondary")
            out = Section()
            if len(base):
                out.append(markdown("**For every priority, first:** high-quality teaching for all (tier 1): "
                                    + "; ".join(f"*{a['strand']}* ({describe(a)})" for _, a in base.iterrows())
                                    + ". The tables below list what addresses each priority's own need."))
            t = t.rename(columns=str.capitalize)
            t["Tier"] = t["Tier"].map(tiers)
            out.append(t)
            return out
        return self._each(one)

    def weights(self):
        """The ranking rule in one sentence, and its points."""
        from dataclasses import fields

        from ..targeting.pupils import RULE, Weights

        w = Weights()
        words = {"below_bar": "below a bar at all", "per_step": "each further step below it",
                 "most_per_measure": "most points from one measure",
                 "priority_factor": "times counted for a measure in a priority area"}
        return Section([markdown(RULE), Table(pd.DataFrame({
            "Rule": [words.get(f.name, f.name.replace("_", " ")) for f in fields(w)],
            "Points": [f"{getattr(w, f.name):g}" for f in fields(w)]}))])

    def targets_data(self, c: _Cohort | None = None) -> pd.DataFrame:
        """The current pupils to focus on for cohort ``c``'s priorities (empty without current pupils)."""
        from ..targeting.pupils import target_pupils

        c = c or self.cohorts[0]
        if self.current is None:
            return pd.DataFrame(columns=["rank", "pupil_id", "score", "reasons"])
        return target_pupils(self._on_roll(c)[0], self.school_id, key_stage=c.key_stage,
                             priorities=self.priorities_data(c))

    def _on_roll(self, c: _Cohort) -> tuple[pd.DataFrame, int]:
        """The school's current pupils of ``c``'s key stage whose results are still to come, and how many
        rows of the current table are left out because their year already has results (leavers)."""
        assert self.current is not None  # (asked for only where the report has current pupils)
        past = self.pupils[(self.pupils["school_id"] == self.school_id) & (self.pupils["key_stage"] == c.key_stage)]
        cur = self.current[(self.current["school_id"] == self.school_id) & (self.current["key_stage"] == c.key_stage)]
        done = (cur["year"] <= int(past["year"].max())).to_numpy(dtype=bool, na_value=False)
        return cur[~done], int(done.sum())

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

    def strategy_text(self, c: _Cohort | None = None) -> str:
        from ..targeting.strategy import strategy_statement

        c = c or self.cohorts[0]
        return strategy_statement(self.pupils, self.school_id, year=c.year, key_stage=c.key_stage,
                                  threshold=self.threshold, priorities=self.priorities_data(c),
                                  gaps=self.table, activities=self.activity_data)

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

    def activity_review(self):
        """Last year's activities, each against comparable pupils who did not take part."""
        from .activities import review_section

        return self._each(lambda c: review_section(self.activity_data, self._activity_notes, c.key_stage, c.year,
                                                   self.threshold))

    def _no_comparison_group(self, c: _Cohort) -> bool:
        rows = self.pupils[(self.pupils["school_id"] == self.school_id) & (self.pupils["key_stage"] == c.key_stage)
                           & (self.pupils["year"] == c.year)]
        d = int(rows["disadvantaged"].astype(bool).sum())
        return d in (0, len(rows))

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


def _profile_cells(p: pd.DataFrame) -> pd.DataFrame:
    """A profile as a table: a row per characteristic and value, 'n (share)' or withheld per group."""
    show = p.assign(cell=[WITHHELD if s else f"{int(n)} ({pct:.0%})"
                          for s, n, pct in zip(p["suppressed"], p["n"].fillna(0), p["pct"].fillna(0))],
                    characteristic=[cap(characteristic_label(ch)) for ch in p["characteristic"]],
                    value=[cap(value_label(ch, v)) for ch, v in zip(p["characteristic"], p["value"])])
    t = show.pivot_table(index=["characteristic", "value"], columns="group", values="cell",
                         aggfunc="first", sort=False)
    t.columns = [f"{cap(g)} pupils" for g in t.columns]
    t.index.names = ["Characteristic", ""]  # names from the label table, never column names
    return t.fillna("")


def _profile_title(p: pd.DataFrame, characteristic: str) -> str:
    rows = p[(p["characteristic"] == characteristic) & ~p["suppressed"] & (p["value"] != "unknown")]
    wide = rows.pivot_table(index="value", columns="group", values="pct", aggfunc="first")
    name = characteristic_label(characteristic)
    if not {"disadvantaged", "other"} <= set(wide.columns) or wide.dropna().empty:
        return cap(name)
    wide = wide.dropna()
    diff = (wide["disadvantaged"] - wide["other"])
    v = diff.abs().idxmax()
    d, o = wide.loc[v, "disadvantaged"], wide.loc[v, "other"]
    if abs(d - o) < 0.05:
        return f"Disadvantaged pupils look like their peers in {name}"
    more = "more" if d > o else "less"
    return f"{cap(name)}: '{value_label(characteristic, v)}' is {more} common among disadvantaged pupils " \
           f"({d:.0%} against {o:.0%})"


def _headline_measure(g: pd.DataFrame) -> str | None:
    """The measure a chart leads with: a headline one if the cohort has it, else any shown one; None if none."""
    for m in ("attainment8", "rwm_expected", "progress8", "grade_english", "reading_score"):
        if m in set(g["measure"]):
            return m
    shown = g[~g["suppressed"]] if "suppressed" in g.columns else g
    return shown["measure"].iloc[0] if len(shown) else (g["measure"].iloc[0] if len(g) else None)


def _no_measure_text(c: _Cohort) -> str:
    return (f"_No outcome measure in the data for {md_text(c.key_stage)} {academic_year(c.year)}: the file has "
            "none of the outcome columns the data contract lists for this key stage (or none a mapping declares), "
            "so no gap can be measured or charted._")


def _gap_title(g: pd.DataFrame) -> str:
    clear = g[g["clear"].fillna(False).astype(bool) & (g["gap"] > 0)]
    if clear.empty:
        return "No clear gap in these measures"
    top = clear.sort_values("gap", ascending=False).iloc[0]
    return (f"Widest clear gap: {measure_label(top['measure'], top['label'])}, "
            f"{amount(top['gap'], top['unit'], top['measure'], top['kind'])}")


def _no_split_text(split: str, c: _Cohort) -> str:
    if split == "prior_band":
        if c.key_stage == "KS4" and c.year in (2025, 2026):
            return (f"_No prior attainment for {c.key_stage} {academic_year(c.year)}: this cohort sat no KS2 tests "
                    "(2020 and 2021 were cancelled)._")
        return f"_No prior attainment in the data for {md_text(c.key_stage)} {academic_year(c.year)}._"
    return f"_No {characteristic_label(split)} data for this cohort._"
