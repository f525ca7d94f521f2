"""The trust overview (notebook 04): every school side by side."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..analysis.trust import standardised_gap
from ..domain.columns import GRADE_PREFIX
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
from ..domain.registry import REGISTRY, by_rank, headline, subjects
from ..domain.suppression import DEFAULT_THRESHOLD
from .display import Chart, Section, Table, markdown
from .in_year import year_group_name
from .school_data import load_data

#: Schools a key stage's heatmap draws at most; the decision list's rows on the page.
HEATMAP_MOST = 40
SUPPORT_MOST = 15


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
            for m in headline("overview"):  # the registry's overview columns, each under its heading
                if m in s.index:
                    row[f"{REGISTRY[m].heading} gap"] = _trust_gap_text(s.loc[m], self.threshold)
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
        rows = [{"school_name": d["school_name"], **r} for d in self.docs for r in d.get("in_year") or []
                if r.get("level") == "year_group"]
        if not rows:
            return markdown("_No assessments were given to this run (`gaptools run --assessments`), so there are "
                            "no in-year gaps to show._")
        t = pd.DataFrame(rows)
        t = t[t["drop_index"] == t.groupby(["school_id", "year_group", "subject"])["drop_index"].transform("max")]
        t = t.sort_values(["school_name", "year_group", "subject"])  # Year 7 before Year 10: by number, not text
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
                        "it survives the false-discovery check across the school's comparisons.")
        return Section([note, Table(out.reset_index(drop=True))])

    def funnel(self, measure: str | None = None):
        """Funnel plot of one measure's gap against the number of disadvantaged pupils, one a key stage.

        Who stands out, and which way, is the analysis' (:func:`gaptools.analysis.trust.funnel_fit`);
        the title says it in words and only those schools are named on the chart.
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
                              label=f"{cap(rows['label'].iloc[0])} gap ({rows['gap_unit'].iloc[0]})"))
        return out

    def heatmap(self, most: int = HEATMAP_MOST):
        """Schools by measures, one heatmap a key stage: the latest gap in standard deviations, clear gaps
        in bold with a ``*``, withheld cells marked; schools with the largest gaps first.

        Above ``most`` schools in a key stage only the schools that matter are drawn (those the
        decision list puts first and those standing out from the trust either way, at most ``most``),
        with a line saying where every school's gaps are. With fewer than two schools a heatmap says
        nothing a table does not, so a table of the school's gaps is shown instead.
        """
        from ..analysis.trust import FUNNEL_MEASURES, funnels, support_priorities
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
            head = short_label(FUNNEL_MEASURES.get(ks, ""))
            key = matrix[head] if head in matrix else matrix.mean(axis=1)
            order = key.sort_values(ascending=False, na_position="last").index.tolist()
            note = None
            if len(order) > most:
                out_of_line = [s for s in order if s in standing.get(ks, set())][:most]  # either way: always drawn
                here = set(order)
                first_here = [s for s in first if s in here and s not in out_of_line]
                matter = set(out_of_line) | set(first_here[:most - len(out_of_line)])
                keep = [s for s in order if s in matter]
                note = markdown(f"_{md_text(ks)}: {len(keep)} of {len(order)} schools drawn: those the list of where "
                                "central support should go puts first, and those whose gap stands out from the "
                                "trust's either way. Every school's gaps are in the table of every school below "
                                "(and in `trust.csv` beside this page)._")
                order = keep
            names = k.groupby("school_id")["school_name"].first()
            matrix = matrix.loc[order]
            withheld = k.pivot_table(index="school_id", columns="measure", values="suppressed", aggfunc="first")
            clear = k.assign(c=_real(k) & (k["gap"] > 0)).pivot_table(index="school_id", columns="measure",
                                                                          values="c", aggfunc="first")
            rows = [str(names[s]) for s in order]
            matrix.index = rows
            withheld = withheld.reindex(index=order, columns=matrix.columns).set_axis(rows)
            clear = clear.reindex(index=order, columns=matrix.columns).set_axis(rows)
            n_clear = int((_real(k) & (k["gap"] > 0)).sum())
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

    def support_table(self, most: int = SUPPORT_MOST):
        """Where central support should go: the decision list of :func:`gaptools.analysis.trust.support_priorities`
        (schools with the most concerns first, each with its reasons in words), its first ``most`` schools."""
        from ..analysis.trust import support_priorities

        if self.gaps.empty:
            return markdown(NO_RESULTS)
        t = support_priorities(self.gaps)
        if t.empty:
            return markdown("_No school has a clear headline gap, a widening gap, a gap behind national figures or a "
                            "gap larger than the trust's: no case for targeted central support from the data._")
        shown = t.head(most)
        table = Table(pd.DataFrame({"Rank": shown["rank"].astype(int), "School": shown["school_name"],
                                    "Key stage": shown["key_stages"], "Concerns": shown["concerns"],
                                    "Why": shown["reason"].map(cap)}).reset_index(drop=True))
        more = len(t) - len(shown)
        n = len(self.docs)
        words = (f"{len(t)} of {n} school{'s' if n != 1 else ''} show at least one concern"
                 + (f"; the first {len(shown)} are here, every school (with or without a concern) is in "
                    "`trust.csv` beside this page, to sort and filter in a spreadsheet." if more else "."))
        return Section([markdown(words), table])

    def support_csv(self) -> str:
        """``trust.csv``: the decision list of every school (those without a concern last, unranked), as
        UTF-8 with a byte-order mark (so that Excel reads the names right) and every cell safe to open in
        a spreadsheet (:func:`gaptools.io.spreadsheet.safe_csv`)."""
        from ..analysis.trust import support_priorities
        from ..io.spreadsheet import safe_csv

        t = support_priorities(self.gaps, every_school=True) if not self.gaps.empty else pd.DataFrame(
            columns=list(CSV_COLUMNS))
        return "\ufeff" + safe_csv(t[list(CSV_COLUMNS)].rename(columns=CSV_COLUMNS))


#: ``trust.csv``'s columns: the decision list's, with headings in words.
CSV_COLUMNS = {"rank": "Rank", "school_id": "School id", "school_name": "School", "key_stages": "Key stages",
               "disadvantaged_pupils": "Disadvantaged pupils (latest year)", "concerns": "Concerns",
               "clear_gaps": "Clear gaps against other pupils in school", "widening": "Clearly widening",
               "behind_national": "Clearly behind national figures",
               "stands_out": "Gap larger than the trust's (beyond chance)", "reason": "Why"}


def stands_out_title(rows: pd.DataFrame) -> str:
    """Who stands out from the trust and which way, in words (from :func:`gaptools.analysis.trust.funnel_fit`).

    e.g. "Hillcrest High School stands out: its gap is larger than the trust's; School 55: smaller".
    """
    larger = rows.loc[rows["stands_out"] == "larger", "school_name"].astype(str).tolist()
    smaller = rows.loc[rows["stands_out"] == "smaller", "school_name"].astype(str).tolist()
    if not larger and not smaller:
        return "no school's gap stands out from the trust beyond chance"

    def names(xs):
        return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]

    first, way, rest = (larger, "larger", smaller) if larger else (smaller, "smaller", [])
    text = (f"{names(first)} {'stands' if len(first) == 1 else 'stand'} out: "
            f"{'its gap is' if len(first) == 1 else 'their gaps are'} {way} than the trust's")
    if rest:
        text += f"; {names(rest)}: smaller"
    return text


NO_RESULTS = ("_No gap figures: the schools' data has no outcome measure (see each school's gap analysis "
              "for why)._")


def _real(g: pd.DataFrame) -> pd.Series:
    """Gaps the results model calls clear (they survive the false-discovery-rate control)."""
    return g["clear"].map(is_yes).astype(bool)


def _trust_gap_text(r, threshold: int) -> str:
    """A gap with unit and interval, ' *' when clear; or why it is withheld."""
    if r["suppressed"]:
        return withheld_text(r["withheld_reason"], threshold)
    mark = " *" if is_yes(r["clear"]) else ""
    return with_interval(r["gap"], r["ci_low"], r["ci_high"], r["unit"], r["measure"], r["kind"]) + mark
