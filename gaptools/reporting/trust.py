"""The trust overview (notebook 04): every school side by side."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..domain.formatting import (
    academic_year,
    cap,
    comparator,
    is_proportion,
    is_yes,
    md_text,
    trend_text,
    with_interval,
    withheld_text,
)
from ..domain.labels import short_label
from ..domain.suppression import DEFAULT_THRESHOLD
from .display import Chart, Section, Table, markdown
from .school import load_data


class TrustReport:
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

    def __init__(self, data=None, *, results_dir=None, mapping=None, threshold: int | None = None):
        from ..analysis.results import (
            analyse_school,
            read_results_table,
            results_dict,
            results_frame,
        )

        docs, frames = [], []
        self.folders: dict[str, str] = {}  # school id -> its folder of pages (a gaptools run)
        if results_dir is not None:
            for path in sorted(Path(results_dir).glob("*/results.json")):
                doc, frame = read_results_table(path)
                docs.append(doc)
                frames.append(frame)
                self.folders[str(docs[-1]["school_id"])] = path.parent.name
        else:
            pupils = load_data(data, mapping)
            for sid in sorted(pupils["school_id"].unique()):
                docs.append(results_dict(analyse_school(pupils, sid, threshold=threshold or DEFAULT_THRESHOLD)))
                frames.append(results_frame(docs[-1]))
        self.docs = docs
        used = sorted({int(d["suppression_threshold"]) for d in docs})
        self.threshold = used[-1] if used else (threshold or DEFAULT_THRESHOLD)
        frames = [f.assign(school_id=d["school_id"], school_name=d["school_name"]) for f, d in zip(frames, docs)]
        self.gaps = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        self.findings = pd.DataFrame([{"school_id": d["school_id"], "school_name": d["school_name"], **f}
                                      for d in docs for f in d["findings"]])

    def _latest(self, comparison="in_school"):
        g = self.gaps
        if g.empty:
            return g
        g = g[(g["comparison"] == comparison if comparison else True) & g["subgroup"].isna()]
        latest = g.groupby(["school_id", "key_stage"])["year"].transform("max")
        return g[g["year"] == latest]

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
            for m, label in (("attainment8", "Attainment 8 gap"), ("basics_4plus", "Grade 4+ E&M gap"),
                             ("rwm_expected", "RWM expected gap"), ("attendance_pct", "Attendance gap")):
                if m in s.index:
                    row[label] = _trust_gap_text(s.loc[m], self.threshold)
            fs = self.findings
            if len(fs):
                real = fs[(fs["school_id"] == sid) & (fs["key_stage"] == ks) & (fs["year"] == int(s["year"].iloc[0]))
                          & fs["category"].isin(["gap", "national"])]
                row["Clear gaps (in school and national)"] = len(real)
            rows.append(row)
        note = markdown(f"Gaps with 95% intervals; **\\*** marks a clear gap (survives the false-discovery check). "
                        f"Groups under {self.threshold} pupils are withheld.")
        return Section([note, Table(pd.DataFrame(rows).fillna(""))])

    def school_links(self):
        """Links to each school's own pages (when the results come from a ``gaptools run``),
        schools with the most clear gaps in their latest results first."""
        import html

        from .html import SCHOOL_PAGES
        from .summary import HTMLBlock

        if not self.folders:
            return markdown("_Each school's pages are linked here when the overview is part of a `gaptools run`._")
        g = self._latest()
        clear = (g[g["clear"].map(is_yes) & (g["gap"] > 0)].groupby("school_id").size()
                 if len(g) else pd.Series(dtype=int))
        names = {str(d["school_id"]): str(d["school_name"]) for d in self.docs}
        order = sorted(self.folders, key=lambda sid: (-int(clear.get(sid, 0)), names.get(sid, sid)))
        rows = []
        for sid in order:
            n = int(clear.get(sid, 0))
            pages = " · ".join(f'<a href="../{html.escape(self.folders[sid])}/{p}.html">{html.escape(t)}</a>'
                               for p, t in SCHOOL_PAGES)
            rows.append(f"<li><strong>{html.escape(names.get(sid, sid))}</strong> "
                        f"({n} clear gap{'' if n == 1 else 's'} against other pupils in school, latest results): {pages}</li>")
        return HTMLBlock("<ul class=\"gaptools-links\">" + "".join(rows) + "</ul>",
                         text="; ".join(names.get(s, s) for s in order))

    def in_year(self):
        """Each school's year-group gaps at its latest data drop, and their change since the year's first
        drop (``in_year`` of results.json, written with ``--assessments``). Teaching groups are never shown
        here: they belong on the school's own page."""
        rows = [{"school_name": d["school_name"], **r} for d in self.docs for r in d.get("in_year") or []
                if r.get("level") == "year_group"]
        if not rows:
            return markdown("_No assessments were given to this run (`gaptools run --assessments`), so there are "
                            "no in-year gaps to show._")
        t = pd.DataFrame(rows)
        t = t[t["drop_index"] == t.groupby(["school_id", "year_group", "subject"])["drop_index"].transform("max")]
        out = pd.DataFrame({
            "School": t["school_name"],
            "Year group": t["year_group"].map(lambda y: "Reception" if int(y) == 0 else f"Year {int(y)}"),
            "Subject": t["subject"], "Latest drop": t["drop"],
            "Gap (95% interval)": [withheld_text(w, self.threshold) if not pd.isna(w) and w else
                                   f"{g:.2f} ({lo:.2f} to {hi:.2f})"
                                   for g, lo, hi, w in zip(t["gap"], t["ci_low"], t["ci_high"], t["withheld_reason"])],
            "Change since the first drop (SD)": [
                "" if pd.isna(c) else f"{round(c, 2) + 0.0:+.2f} ({lo:.2f} to {hi:.2f})"  # (+ 0.0: never -0.00)
                for c, lo, hi in zip(t["change_sd"], t["change_ci_low"], t["change_ci_high"])],
            "Clear change?": ["" if pd.isna(c) else ("yes" if a else "no")
                              for c, a in zip(t["change_sd"], t["alert"])],
        }).sort_values(["School", "Year group", "Subject"])
        note = markdown("Gaps in each subject's own scores (above 0: disadvantaged pupils behind); changes in "
                        "standard deviations of the subject's scores, same pupils. A change is *clear* only when "
                        "it survives the false-discovery check across the school's comparisons.")
        return Section([note, Table(out.reset_index(drop=True))])

    def funnel(self, measure: str | None = None):
        """Funnel plot of one measure's gap against the number of disadvantaged pupils."""
        from .charts import funnel

        out = Section()
        g = self._latest()
        if g.empty:
            return markdown(NO_RESULTS)
        for ks in sorted(g["key_stage"].unique()):
            m = measure or ("attainment8" if ks == "KS4" else "rwm_expected")
            rows = g[(g["key_stage"] == ks) & (g["measure"] == m) & ~g["suppressed"].astype(bool)].copy()
            if len(rows) < 2:
                label = g.loc[g["measure"] == m, "label"]
                out.append(markdown(f"_{md_text(ks)}: fewer than two schools with "
                                    f"{label.iloc[0] if len(label) else m} figures: no funnel to draw._"))
                continue
            sd = float(np.median(pupil_sd(rows)))
            ratio = float(np.median(rows["n_reference"] / rows["n_disadvantaged"]))
            scale = 100 if is_proportion(rows["unit"].iloc[0], m, rows["kind"].iloc[0]) else 1
            rows["gap_shown"] = rows["gap"] * scale
            centre = float(np.average(rows["gap_shown"], weights=rows["n_disadvantaged"]))
            k, v = rows["n_disadvantaged"].to_numpy(float), rows["gap_shown"].to_numpy(float)
            lim = 3.09 * sd * scale * np.sqrt(1 / k + 1 / (ratio * k))
            out_of = rows.loc[np.abs(v - centre) > lim, "school_name"].tolist()
            title = (f"{ks}: " + (", ".join(out_of) + (" stands" if len(out_of) == 1 else " stand") + " out from the trust" if out_of
                                  else "no school's gap stands out from the trust beyond chance"))
            out.append(funnel(rows, value="gap_shown", sd=sd * scale, centre=centre, ratio=ratio, title=title,
                              label=f"{cap(rows['label'].iloc[0])} gap ({rows['gap_unit'].iloc[0]})"))
        return out

    def heatmap(self):
        """Schools by measures: the latest gap in standard deviations, withheld cells marked.

        With fewer than two schools a heatmap says nothing a table does not, so a
        table of the school's gaps is shown instead.
        """
        from .charts import heatmap

        g = self._latest()
        if g.empty:
            return markdown(NO_RESULTS)
        g = g[~g["measure"].str.startswith("grade_") | g["measure"].isin(["grade_english", "grade_maths"])].copy()
        g["std_gap"] = g["gap"] / pupil_sd(g)
        g["row"] = g["school_name"] + " (" + g["key_stage"] + ")"
        if g["row"].nunique() < 2:
            return self._gap_list(g)
        g["measure"] = g["measure"].map(short_label)  # the one label table
        matrix = g.pivot_table(index="row", columns="measure", values="std_gap", aggfunc="first", dropna=False)
        matrix = matrix.loc[:, matrix.abs().max() > 1e-9]
        if matrix.empty:
            return self._gap_list(g)
        withheld = g.pivot_table(index="row", columns="measure", values="suppressed", aggfunc="first")
        return Chart(heatmap(matrix, withheld=withheld.reindex_like(matrix),
                             title=f"Gaps by school and measure: {int(_real(g).sum())} of {int(g['gap'].notna().sum())} "
                                   "shown gaps are clear"))

    def _gap_list(self, g: pd.DataFrame):
        # the school's comparisons with national figures too: for a school with no comparison
        # group in school they are all there is
        every = self._latest(comparison=None)
        g = every[every["measure"].isin(set(g["measure"])) | (every["comparison"] != "in_school")]
        rows = [{"School": r["school_name"], "Key stage": r["key_stage"], "Measure": cap(r["label"]),
                 "Compared with": comparator(r["comparison"]),
                 "Gap (95% interval)": _trust_gap_text(r, self.threshold).rstrip(" *"),
                 "Clear": "yes" if _real(pd.DataFrame([r])).iloc[0] else "no"}
                for _, r in g.iterrows()]
        return Section([markdown("_One school in this run: its latest gaps as a table (a heatmap needs "
                                 "two or more schools to compare)._"), Table(pd.DataFrame(rows))])

    def trends_table(self):
        """Which schools' gaps are clearly closing or widening: the results model's verdict (latest year)."""
        g = self._latest()
        if g.empty:
            return markdown(NO_RESULTS)
        tr = g[g["trend"].isin(["closing", "widening"])]
        if tr.empty:
            return markdown("_No school's gap is clearly closing or widening over the years in the data._")
        return Table(pd.DataFrame({
            "School": tr["school_name"], "Key stage": tr["key_stage"], "Measure": tr["label"].map(cap),
            "From": tr["trend_from"].astype(int), "To": tr["year"].astype(int),
            "Change in the gap (95% interval)": [with_interval(c, lo, hi, u, m, k) for c, lo, hi, u, m, k in zip(
                tr["trend_change"], tr["trend_ci_low"], tr["trend_ci_high"], tr["unit"], tr["measure"], tr["kind"])],
            "Verdict": [trend_text(t, f) for t, f in zip(tr["trend"], tr["trend_from"])]}).reset_index(drop=True))

    def support_table(self):
        """Where central support should go: schools ranked by clear headline gaps x pupils affected."""
        g = self._latest()
        if g.empty:
            return markdown(NO_RESULTS)
        head = g[g["measure"].isin(["attainment8", "progress8", "basics_4plus", "grade_english", "grade_maths",
                                    "rwm_expected", "reading_score", "maths_score", "attendance_pct",
                                    "persistent_absence"])].copy()
        head = head[_real(head) & (head["gap"] > 0)]
        head["weight"] = (head["gap"] / pupil_sd(head)) * head["n_disadvantaged"]
        if head.empty:
            return markdown("_No school has a clear headline gap: no case for targeted central support from the data._")
        agg = head.groupby(["school_id", "school_name", "key_stage"]).agg(
            pupils=("n_disadvantaged", "max"), weight=("weight", "sum"),
            measures=("measure", lambda s: ", ".join(sorted(set(s))))).reset_index()
        agg = agg.sort_values("weight", ascending=False)
        agg["weight"] = agg["weight"].fillna(0)
        agg["measures"] = agg["measures"].map(lambda v: ", ".join(short_label(m) for m in v.split(", ")))
        return Table(pd.DataFrame({"Rank": range(1, len(agg) + 1), "School": agg["school_name"],
                                   "Key stage": agg["key_stage"], "Disadvantaged pupils": agg["pupils"].astype(int),
                                   "Clear gaps in": agg["measures"],
                                   "Weight (gap size x pupils)": agg["weight"].round(0).astype(int)}))


NO_RESULTS = ("_No gap figures: the schools' data has no outcome measure (see each school's gap analysis "
              "for why)._")


def _se(g: pd.DataFrame) -> pd.Series:
    """Standard error recovered from a 95% interval (results.json keeps intervals, not SEs)."""
    return (g["ci_high"].astype(float) - g["ci_low"].astype(float)) / (2 * 1.96)


def pupil_sd(g: pd.DataFrame) -> pd.Series:
    """Pupil-level SD implied by a gap's standard error and its two group sizes (NaN where withheld)."""
    n_dis = g["n_disadvantaged"].astype("float64")
    n_ref = g["n_reference"].astype("float64")
    return _se(g) / np.sqrt(1 / n_dis + 1 / n_ref)


def _real(g: pd.DataFrame) -> pd.Series:
    """Gaps the results model calls clear (they survive the false-discovery-rate control)."""
    return g["clear"].map(is_yes).astype(bool)


def _trust_gap_text(r, threshold: int) -> str:
    """A gap with unit and interval, ' *' when clear; or why it is withheld."""
    if r["suppressed"]:
        return withheld_text(r["withheld_reason"], threshold)
    mark = " *" if is_yes(r["clear"]) else ""
    return with_interval(r["gap"], r["ci_low"], r["ci_high"], r["unit"], r["measure"], r["kind"]) + mark
