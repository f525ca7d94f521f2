"""The trust overview (notebook 04): every school side by side."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..domain.formatting import is_yes
from ..domain.suppression import DEFAULT_THRESHOLD
from .display import WITHHELD, Chart, Section, Table, markdown
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
    """

    def __init__(self, data=None, *, results_dir=None, mapping=None, threshold: int = DEFAULT_THRESHOLD):
        from ..analysis.results import analyse_school, read_results, results_dict

        self.threshold = threshold
        docs = []
        if results_dir is not None:
            for path in sorted(Path(results_dir).glob("*/results.json")):
                docs.append(read_results(path))
        else:
            pupils = load_data(data, mapping)
            for sid in sorted(pupils["school_id"].unique()):
                docs.append(results_dict(analyse_school(pupils, sid, threshold=threshold)))
        self.docs = docs
        rows = []
        for d in docs:
            for g in d["gaps"]:
                rows.append({"school_id": d["school_id"], "school_name": d["school_name"], **g})
        self.gaps = pd.DataFrame(rows)
        self.findings = pd.DataFrame([{"school_id": d["school_id"], "school_name": d["school_name"], **f}
                                      for d in docs for f in d["findings"]])

    def _latest(self, comparison="in_school"):
        g = self.gaps
        if g.empty:
            return g
        g = g[(g["comparison"] == comparison) & g["subgroup"].isna()]
        latest = g.groupby(["school_id", "key_stage"])["year"].transform("max")
        return g[g["year"] == latest]

    def schools_table(self):
        """Each school's headline gaps (latest year) with intervals."""
        g = self._latest()
        if g.empty:
            return markdown("_No results._")
        rows = []
        for (sid, ks), s in g.groupby(["school_id", "key_stage"], sort=True):
            s = s.set_index("measure")
            row = {"School": s["school_name"].iloc[0], "Key stage": ks, "Year": int(s["year"].iloc[0])}
            for m, label in (("attainment8", "Attainment 8 gap"), ("basics_4plus", "Grade 4+ E&M gap"),
                             ("rwm_expected", "RWM expected gap"), ("attendance_pct", "Attendance gap")):
                if m in s.index:
                    r = s.loc[m]
                    unit = "%" if m in ("basics_4plus", "rwm_expected") else ""
                    row[label] = _trust_gap_text(r, unit)
            fs = self.findings
            if len(fs):
                real = fs[(fs["school_id"] == sid) & (fs["key_stage"] == ks) & (fs["year"] == row["Year"])
                          & fs["category"].isin(["gap", "national"])]
                row["Clear gaps"] = len(real)
            rows.append(row)
        return Table(pd.DataFrame(rows).fillna(""))

    def funnel(self, measure: str | None = None):
        """Funnel plot of one measure's gap against the number of disadvantaged pupils."""
        from .charts import funnel

        out = Section()
        g = self._latest()
        if g.empty:
            return markdown("_No results._")
        for ks in sorted(g["key_stage"].unique()):
            m = measure or ("attainment8" if ks == "KS4" else "rwm_expected")
            rows = g[(g["key_stage"] == ks) & (g["measure"] == m) & ~g["suppressed"].astype(bool)].copy()
            if len(rows) < 2:
                out.append(markdown(f"_{ks}: fewer than two schools with {m} figures: no funnel to draw._"))
                continue
            sd = float(np.median(pupil_sd(rows)))
            ratio = float(np.median(rows["n_reference"] / rows["n_disadvantaged"]))
            scale = 100 if m in ("basics_4plus", "basics_5plus", "rwm_expected", "rwm_higher") else 1
            rows["gap_shown"] = rows["gap"] * scale
            centre = float(np.average(rows["gap_shown"], weights=rows["n_disadvantaged"]))
            k, v = rows["n_disadvantaged"].to_numpy(float), rows["gap_shown"].to_numpy(float)
            lim = 3.09 * sd * scale * np.sqrt(1 / k + 1 / (ratio * k))
            out_of = rows.loc[np.abs(v - centre) > lim, "school_name"].tolist()
            title = (f"{ks}: " + (", ".join(out_of) + (" stands" if len(out_of) == 1 else " stand") + " out from the trust" if out_of
                                  else "no school's gap stands out from the trust beyond chance"))
            out.append(funnel(rows, value="gap_shown", sd=sd * scale, centre=centre, ratio=ratio, title=title,
                              label=f"{m} gap" + (" (percentage points)" if scale == 100 else "")))
        return out

    def heatmap(self):
        """Schools by measures: the latest gap in standard deviations, withheld cells marked."""
        from .charts import heatmap

        g = self._latest()
        if g.empty:
            return markdown("_No results._")
        g = g[~g["measure"].str.startswith("grade_") | g["measure"].isin(["grade_english", "grade_maths"])].copy()
        g["std_gap"] = g["gap"] / pupil_sd(g)
        g["row"] = g["school_name"] + " (" + g["key_stage"] + ")"
        g["measure"] = g["measure"].map(lambda m: _SHORT.get(m, m))
        matrix = g.pivot_table(index="row", columns="measure", values="std_gap", aggfunc="first")
        matrix = matrix.loc[:, matrix.abs().max() > 1e-9]
        withheld = g.pivot_table(index="row", columns="measure", values="suppressed", aggfunc="first")
        return Chart(heatmap(matrix, withheld=withheld.reindex_like(matrix),
                       title=f"Gaps by school and measure: {int(_real(g).sum())} of {int(g['gap'].notna().sum())} "
                             "shown gaps are clear (withheld: c)"))

    def trends_table(self):
        """Which schools' gaps are clearly closing or widening (first to last year)."""
        from ..analysis.trends import gap_trends

        g = self.gaps
        if g.empty:
            return markdown("_No results._")
        g = g.copy()
        g["se"] = _se(g)
        tr = gap_trends(g)
        tr = tr[tr["subgroup"].isna() & (tr["comparison"] == "in_school") & tr["direction"].isin(["closing", "widening"])
                & (tr["span"] == "first_to_last")]
        if tr.empty:
            return markdown("_No school's gap is clearly closing or widening over the years in the data._")
        names = dict(zip(self.gaps["school_id"], self.gaps["school_name"]))
        from ..domain.measures import STANDARD_MEASURES, grade_measure

        units = [(STANDARD_MEASURES.get(m) or grade_measure(m)).unit if m in STANDARD_MEASURES or
                 m.startswith("grade_") else "" for m in tr["measure"]]
        change = [(f"{c * 100:+.0f} pts" if u == "%" and m != "attendance_pct" else f"{c:+.2f}")
                  for c, u, m in zip(tr["change"], units, tr["measure"])]
        return Table(pd.DataFrame({"School": tr["school_id"].map(names), "Key stage": tr["key_stage"],
                                   "Measure": tr["measure"].map(lambda m: _SHORT.get(m, m)), "From": tr["year_from"],
                                   "To": tr["year_to"], "Change in the gap": change,
                                   "Verdict": tr["direction"]}).reset_index(drop=True))

    def support_table(self):
        """Where central support should go: schools ranked by clear headline gaps x pupils affected."""
        g = self._latest()
        if g.empty:
            return markdown("_No results._")
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
        agg["measures"] = agg["measures"].map(lambda v: ", ".join(_SHORT.get(m, m) for m in v.split(", ")))
        return Table(pd.DataFrame({"Rank": range(1, len(agg) + 1), "School": agg["school_name"],
                                   "Key stage": agg["key_stage"], "Disadvantaged pupils": agg["pupils"].astype(int),
                                   "Clear gaps in": agg["measures"],
                                   "Weight (gap size x pupils)": agg["weight"].round(0).astype(int)}))


_SHORT = {"attainment8": "Attainment 8", "progress8": "Progress 8", "grade_english": "English", "grade_maths": "maths",
          "basics_4plus": "4+ E&M", "basics_5plus": "5+ E&M", "attendance_pct": "attendance",
          "persistent_absence": "persistent absence", "severe_absence": "severe absence", "suspensions": "suspensions",
          "reading_score": "KS2 reading", "maths_score": "KS2 maths", "gps_score": "KS2 GPS",
          "rwm_expected": "RWM expected", "rwm_higher": "RWM higher"}


def _se(g: pd.DataFrame) -> pd.Series:
    """Standard error recovered from a 95% interval (results.json keeps intervals, not SEs)."""
    return (g["ci_high"] - g["ci_low"]) / (2 * 1.96)


def pupil_sd(g: pd.DataFrame) -> pd.Series:
    """Pupil-level SD implied by a gap's standard error and its two group sizes."""
    return _se(g) / np.sqrt(1 / g["n_disadvantaged"] + 1 / g["n_reference"])


def _real(g: pd.DataFrame) -> pd.Series:
    """Gaps that survive the false-discovery-rate control (``clear``), or, in
    results written before that field existed, whose interval excludes zero."""
    col = g["clear"] if "clear" in g.columns else g["significant"]
    return col.map(is_yes).astype(bool)


def _trust_gap_text(r, unit: str) -> str:
    if r["suppressed"]:
        return WITHHELD
    scale = 100 if unit == "%" else 1
    mark = " *" if is_yes(r.get("clear", r["significant"])) else ""
    return f"{r['gap'] * scale:.1f} ({r['ci_low'] * scale:.1f} to {r['ci_high'] * scale:.1f}){mark}"
