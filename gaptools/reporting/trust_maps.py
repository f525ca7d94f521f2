"""The trust overview's charts (notebook 04): the funnel plot and the heatmap of schools by measures,
drawn from the analysis' funnel fit and choice of schools (:mod:`gaptools.analysis.trust`)."""
from __future__ import annotations

import pandas as pd

from ..analysis.trust import standardised_gap
from ..domain.columns import GRADE_PREFIX
from ..domain.formatting import cap, comparator, is_proportion, md_text
from ..domain.labels import short_label
from ..domain.registry import by_rank, subjects
from .display import Chart, Section, Table, markdown
from .trust_data import NO_RESULTS, TrustData, real, trust_gap_text

#: Schools a key stage's heatmap draws at most.
HEATMAP_MOST = 40


class TrustCharts(TrustData):
    """The funnel and the heatmap, one a key stage."""

    def funnel(self, measure: str | None = None):
        """Funnel plot of one measure's gap against the number of disadvantaged pupils, one a key stage.

        Who stands out, and which way, is the analysis' (:func:`gaptools.analysis.trust.funnel_fit`);
        the title says it in words and only those schools are named on the chart (the furthest out, at
        most :data:`FUNNEL_NAMED` each way; the chart's text alternative and ``trust.csv`` name them all).
        """
        from ..analysis.trust import FUNNEL_MEASURES, funnel_fit
        from .trust_charts import funnel

        out = Section()
        g = self._latest()
        if g.empty:
            return markdown(NO_RESULTS)
        for ks in sorted(g["key_stage"].unique()):
            m = measure or FUNNEL_MEASURES.get(ks, by_rank(FUNNEL_MEASURES.values())[0])
            rows, fit = funnel_fit(g[(g["key_stage"] == ks) & (g["measure"] == m)])
            if len(rows) < 2:
                label = g.loc[g["measure"] == m, "label"]
                out.append(markdown(f"_{md_text(ks)}: fewer than two schools with "
                                    f"{label.iloc[0] if len(label) else m} figures: no funnel to draw._"))
                continue
            scale = 100 if is_proportion(rows["unit"].iloc[0], m, rows["kind"].iloc[0]) else 1
            rows["gap_shown"] = rows["gap"] * scale
            out.append(funnel(rows, value="gap_shown", sd=fit["sd"] * scale, centre=fit["centre"] * scale,
                              ratio=fit["ratio"], title=f"{ks}: {stands_out_title(rows)}", mark="stands_out",
                              named=FUNNEL_NAMED,
                              label=f"{cap(rows['label'].iloc[0])} gap ({rows['gap_unit'].iloc[0]})"))
        return out

    def heatmap(self, most: int = HEATMAP_MOST):
        """Schools by measures, one heatmap a key stage: the latest gap in standard deviations, clear gaps
        in bold with a ``*``, withheld cells marked; schools with the largest gaps first.

        Above ``most`` schools in a key stage only the schools that matter are drawn (those the
        decision list puts first and those standing out from the trust either way, at most ``most``:
        :func:`gaptools.analysis.trust.heatmap_schools`), with a line saying where every school's gaps
        are. With fewer than two schools a heatmap says nothing a table does not, so a table of the
        school's gaps is shown instead.
        """
        from ..analysis.trust import funnels, heatmap_schools, support_priorities
        from .trust_charts import heatmap

        g = self._latest()
        if g.empty:
            return markdown(NO_RESULTS)
        g = g[~g["measure"].str.startswith(GRADE_PREFIX) | g["measure"].isin(subjects("KS4"))].copy()
        g["std_gap"] = standardised_gap(g)
        if g["school_id"].nunique() < 2:
            return self._gap_list(g)
        first = support_priorities(self.gaps)["school_id"].tolist()
        standing = {ks: set(t.loc[t["stands_out"].notna(), "school_id"]) for ks, (t, _) in funnels(self.gaps).items()}
        out = Section()
        for ks, k in g.groupby("key_stage", sort=True):
            k = k.copy()
            k["measure"] = k["measure"].map(short_label)  # the one label table
            matrix = k.pivot_table(index="school_id", columns="measure", values="std_gap", aggfunc="first",
                                   dropna=False)
            matrix = matrix.loc[:, matrix.abs().max() > 1e-9]
            if matrix.empty:
                continue
            order = heatmap_schools(matrix, ks, first=first, standing=standing.get(ks, set()), most=most)
            note = None
            if len(order) < len(matrix):
                note = markdown(f"_{md_text(ks)}: {len(order)} of {len(matrix)} schools drawn: those the list of "
                                "where central support should go puts first, and those whose gap stands out from "
                                "the trust's either way. Every school's gaps are in the table of every school below "
                                "(and in `trust.csv` beside this page)._")
            names = k.groupby("school_id")["school_name"].first()
            matrix = matrix.loc[order]
            withheld = k.pivot_table(index="school_id", columns="measure", values="suppressed", aggfunc="first")
            clear = k.assign(c=real(k) & (k["gap"] > 0)).pivot_table(index="school_id", columns="measure",
                                                                         values="c", aggfunc="first")
            rows = [str(names[s]) for s in order]
            matrix.index = rows
            withheld = withheld.reindex(index=order, columns=matrix.columns).set_axis(rows)
            clear = clear.reindex(index=order, columns=matrix.columns).set_axis(rows)
            n_clear = int((real(k) & (k["gap"] > 0)).sum())
            out.append(Chart(heatmap(matrix, withheld=withheld, clear=clear,
                                     title=f"{ks}: gaps by school and measure, largest first: {n_clear} of "
                                           f"{int(k['gap'].notna().sum())} shown gaps are clear (*)")))
            if note is not None:
                out.append(note)
        return out if len(out) else self._gap_list(g)

    def _gap_list(self, g: pd.DataFrame):
        # the school's comparisons with national figures too: for a school with no comparison
        # group in school they are all there is
        every = self._latest(comparison=None)
        g = every[every["measure"].isin(set(g["measure"])) | (every["comparison"] != "in_school")]
        rows = [{"School": r["school_name"], "Key stage": r["key_stage"], "Measure": cap(r["label"]),
                 "Compared with": comparator(r["comparison"]),
                 "Gap (95% interval)": trust_gap_text(r, self.threshold).rstrip(" *"),
                 "Clear": "yes" if real(pd.DataFrame([r])).iloc[0] else "no"}
                for _, r in g.iterrows()]
        return Section([markdown("_One school in this run: its latest gaps as a table (a heatmap needs "
                                 "two or more schools to compare)._"), Table(pd.DataFrame(rows))])


#: Schools standing out each way that a funnel's title and labels name (the furthest out); the chart's
#: text alternative and trust.csv name them all.
FUNNEL_NAMED = 4


def stands_out_title(rows: pd.DataFrame) -> str:
    """Who stands out from the trust and which way, in words (from :func:`gaptools.analysis.trust.funnel_fit`).

    e.g. "Hillcrest High School stands out: its gap is larger than the trust's; School 55: smaller".
    """
    if "beyond" in rows.columns:  # the furthest out first
        rows = rows.sort_values("beyond", ascending=False, kind="stable")
    larger = rows.loc[rows["stands_out"] == "larger", "school_name"].astype(str).tolist()
    smaller = rows.loc[rows["stands_out"] == "smaller", "school_name"].astype(str).tolist()
    if not larger and not smaller:
        return "no school's gap stands out from the trust beyond chance"

    def names(xs):
        if len(xs) > FUNNEL_NAMED:  # a title, not a list: the rest are in the chart's text and trust.csv
            return ", ".join(xs[:FUNNEL_NAMED]) + f" and {len(xs) - FUNNEL_NAMED} more"
        return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]

    first, way, rest = (larger, "larger", smaller) if larger else (smaller, "smaller", [])
    text = (f"{names(first)} {'stands' if len(first) == 1 else 'stand'} out: "
            f"{'its gap is' if len(first) == 1 else 'their gaps are'} {way} than the trust's")
    if rest:
        text += f"; {names(rest)}: smaller"
    return text
