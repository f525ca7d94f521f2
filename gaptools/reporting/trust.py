"""The trust overview (notebook 04): every school side by side.

It renders the trust's results (:func:`gaptools.analysis.trust_results.trust_results`) and the
statistics of :mod:`gaptools.analysis.trust`; its sections are in :mod:`.trust_maps` (the funnel,
the heatmap) and :mod:`.trust_support` (where central support should go, ``trust.csv``).
"""
from __future__ import annotations

import pandas as pd

from ..domain.formatting import academic_year, cap, is_yes, trend_text, with_interval, withheld_text
from ..domain.registry import REGISTRY, headline
from .display import Section, markdown
from .in_year import year_group_name
from .summary import Folded
from .trust_data import NO_RESULTS, trust_gap_text
from .trust_maps import HEATMAP_MOST, TrustCharts, stands_out_title
from .trust_support import CSV_COLUMNS, SUPPORT_MOST, TrustSupport

# names other modules and users import from here (the sections now live in modules of their own)
__all__ = ["CSV_COLUMNS", "HEATMAP_MOST", "NO_RESULTS", "SUPPORT_MOST", "TrustReport", "stands_out_title"]


#: Rows of a long trust table shown before the rest is folded (a printed overview shows them all).
LONG_TABLE = 30

class TrustReport(TrustCharts, TrustSupport):
    """Every school side by side: which gaps are real, which are closing, where to put support.

    Parameters
    ----------
    data : path or DataFrame, optional
        The pupil table, used when ``results_dir`` is None.
    results_dir : path, optional
        A ``gaptools run`` output folder: read each school's ``results.json``.
    mapping : path, optional
    threshold : int, default 6
        Used when computing from ``data``; with ``results_dir`` the threshold
        the results were written with is the one reported.

    Every figure, verdict and reason comes from the schools' results model
    (``gaps``: one validated table of all schools); nothing is re-derived.
    """

    def schools_table(self):
        """Each school's headline gaps (latest year) with intervals."""
        g = self._latest()
        if g.empty:
            return markdown(NO_RESULTS)
        rows = []
        for (sid, ks), s in g.groupby(["school_id", "key_stage"], sort=True):
            s = s.set_index("measure", drop=False)
            row = {"School": s["school_name"].iloc[0], "Key stage": ks, "Year": int(s["year"].iloc[0])}
            row["Year"] = academic_year(row["Year"])
            for m in headline("overview"):  # the registry's overview columns, each under its heading
                if m in s.index:
                    row[f"{REGISTRY[m].heading} gap"] = trust_gap_text(s.loc[m], self.threshold)
            fs = self.findings
            if len(fs):
                real = fs[(fs["school_id"] == sid) & (fs["key_stage"] == ks) & (fs["year"] == int(s["year"].iloc[0]))
                          & fs["category"].isin(["gap", "national"])]
                row["Clear gaps (in school and national)"] = len(real)
            rows.append(row)
        note = markdown(f"Gaps with 95% intervals; **\\*** marks a clear gap (survives the false-discovery check). "
                        f"Groups under {self.threshold} pupils are withheld.")
        return Section([note, Folded(pd.DataFrame(rows).fillna(""), keep=LONG_TABLE, what="schools")])

    def school_links(self):
        """Links to each school's own pages (when the results come from a ``gaptools run``), in the order
        of the list of where central support should go, then the other schools by name."""
        import html

        from .html import SCHOOL_PAGES
        from .summary import HTMLBlock

        if not self.folders:
            return markdown("_Each school's pages are linked here when the overview is part of a `gaptools run`._")
        from ..analysis.trust import support_priorities

        g = self._latest()
        clear = (g[g["clear"].map(is_yes) & (g["gap"] > 0)].groupby("school_id").size()
                 if len(g) else pd.Series(dtype=int))
        names = {str(d["school_id"]): str(d["school_name"]) for d in self.docs}
        first = {sid: i for i, sid in enumerate(support_priorities(self.gaps)["school_id"])} if len(self.gaps) else {}
        order = sorted(self.folders, key=lambda sid: (first.get(sid, len(first)), names.get(sid, sid)))
        rows = []
        for sid in order:
            n = int(clear.get(sid, 0))
            pages = " · ".join(f'<a href="../{html.escape(self.folders[sid])}/{p}.html">{html.escape(t)}</a>'
                               for p, t in SCHOOL_PAGES)
            rows.append(f"<li><strong>{html.escape(names.get(sid, sid))}</strong> "
                        f"({n} clear gap{'' if n == 1 else 's'} against other pupils in school, latest results): "
                        f"{pages}</li>")
        return HTMLBlock("<ul class=\"gaptools-links\">" + "".join(rows) + "</ul>",
                         text="; ".join(names.get(s, s) for s in order))

    def in_year(self):
        """Each school's year-group gaps at its latest data drop, and their change since the year's first
        drop (``in_year`` of results.json, written with ``--assessments``). Teaching groups are never shown
        here: they belong on the school's own page."""
        from ..analysis.trust_results import latest_drops

        t = latest_drops(self.docs)
        if t.empty:
            return markdown("_No assessments were given to this run (`gaptools run --assessments`), so there are "
                            "no in-year gaps to show._")
        out = pd.DataFrame({
            "School": t["school_name"],
            "Year group": t["year_group"].map(year_group_name),
            "Subject": t["subject"], "Latest drop": t["drop"],
            "Gap (95% interval)": [withheld_text(w, self.threshold) if not pd.isna(w) and w else
                                   f"{g:.2f} ({lo:.2f} to {hi:.2f})"
                                   for g, lo, hi, w in zip(t["gap"], t["ci_low"], t["ci_high"], t["withheld_reason"])],
            "Change since the first drop (SD)": [
                "" if pd.isna(c) else f"{round(c, 2) + 0.0:+.2f} ({lo:.2f} to {hi:.2f})"  # (+ 0.0: never -0.00)
                for c, lo, hi in zip(t["change_sd"], t["change_ci_low"], t["change_ci_high"])],
            "Clear change?": ["" if pd.isna(c) else ("yes" if a else "no")
                              for c, a in zip(t["change_sd"], t["alert"])],
        })
        note = markdown("Gaps in each subject's own scores (above 0: disadvantaged pupils behind); changes in "
                        "standard deviations of the subject's scores, same pupils. A change is *clear* only when "
                        "it survives the false-discovery check across the school's comparisons. Clear changes "
                        "come first.")
        out = out.sort_values("Clear change?", key=lambda c: c.ne("yes"), kind="stable")  # clear ones first
        return Section([note, Folded(out.reset_index(drop=True), keep=LONG_TABLE, what="year groups")])

    def trends_table(self):
        """Which schools' gaps are clearly closing or widening: the results model's verdict (latest year)."""
        g = self._latest()
        if g.empty:
            return markdown(NO_RESULTS)
        tr = g[g["trend"].isin(["closing", "widening"])]
        if tr.empty:
            return markdown("_No school's gap is clearly closing or widening over the years in the data._")
        tr = tr.sort_values("trend", key=lambda t: t.ne("widening"), kind="stable")  # widening gaps first
        return Folded(pd.DataFrame({
            "School": tr["school_name"], "Key stage": tr["key_stage"], "Measure": tr["label"].map(cap),
            "From": tr["trend_from"].astype(int), "To": tr["year"].astype(int),
            "Change in the gap (95% interval)": [with_interval(c, lo, hi, u, m, k) for c, lo, hi, u, m, k in zip(
                tr["trend_change"], tr["trend_ci_low"], tr["trend_ci_high"], tr["unit"], tr["measure"], tr["kind"])],
            "Verdict": [trend_text(t, f) for t, f in zip(tr["trend"], tr["trend_from"])]}).reset_index(drop=True),
            keep=LONG_TABLE, what="changes")

