"""The year so far (notebook 06): a school's data drops, its teaching groups and its targeted pupils.

For a head of year and the school's own staff only: teaching groups appear on
this page and never on a trust page. No teacher is named or ranked (groups are
listed by name, never by the size of their gap), and the words point at how
pupils are supported, not at who teaches them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.formatting import cap, is_missing, md_text, withheld_text
from ..domain.suppression import DEFAULT_THRESHOLD
from .display import Section, Table, markdown

TEACHING_GROUP = "teaching_group"


def _n(x) -> str:
    return "" if is_missing(x) else f"{x:.2f}"


def _sd(x, low, high) -> str:
    """'+0.80 SD (0.31 to 1.29)': a change in standard deviations with its interval."""
    if is_missing(x):
        return ""
    return f"{round(x, 2) + 0.0:+.2f} SD ({low:.2f} to {high:.2f})"  # (+ 0.0: never "-0.00")


def _with(x, low, high) -> str:
    return "" if is_missing(x) else f"{_n(x)} ({_n(low)} to {_n(high)})"


def year_group_name(y) -> str:
    """A year group as a school says it: 'Reception' or 'Year 10'."""
    return "Reception" if int(y) == 0 else f"Year {int(y)}"


def _chart_text(text) -> str:
    return str(text).replace("$", r"\$")  # matplotlib reads $...$ as mathematics


class InYearReport:
    """One school's year so far: gaps at each drop, alerts, teaching groups, targeted pupils.

    Parameters
    ----------
    assessments : path or DataFrame
        The assessments (data contract §6), any number of schools: a file or
        folder (read with :func:`gaptools.load_assessments`) or its result.
    school_id : str
    school_name : str, optional
        The school's name, for the page (default the id).
    mapping : path, optional
        A mapping for the assessments export.
    threshold : int, default 6
        Groups smaller than this are withheld.
    targets : path or list of str, optional
        The targeted pupils: a pupil list (``targets.csv``) or their ids.
    out_dir : path, optional
        Where ``results.json`` is: :meth:`write_outputs` adds ``in_year`` to it.
    """

    def __init__(self, assessments, school_id, *, school_name=None, mapping=None,
                 threshold: int = DEFAULT_THRESHOLD, targets=None, out_dir=None):
        from ..analysis.in_year import in_year_gaps

        if not isinstance(assessments, pd.DataFrame):
            import warnings

            from ..errors import GaptoolsWarning
            from ..io.assessments import load_assessments

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", GaptoolsWarning)
                assessments = load_assessments(assessments, mapping)
        self.school_id = str(school_id)
        self.school_name = str(school_name) if school_name else self.school_id
        self.threshold = int(threshold)
        self.out_dir = out_dir
        self.assessments = assessments[assessments["school_id"] == self.school_id].reset_index(drop=True)
        self.table = in_year_gaps(self.assessments, threshold=self.threshold)
        self.targets = targets
        self._targeted = None

    # ------------------------------------------------------------ the page's parts
    def headline(self):
        """What the assessments hold for this school, in a sentence or two."""
        a = self.assessments
        name = f"**{md_text(self.school_name)}**"
        if a.empty:
            return markdown(f"{name}: no assessments for this school are in the data given, so there is nothing "
                            "to show for the year so far.")
        units = a.groupby(["year_group", "subject"], sort=True)["drop"].nunique()
        parts = [f"{year_group_name(yg)} {md_text(subject)} ({n} drop{'s' if n != 1 else ''})"
                 for (yg, subject), n in units.items()]
        alerts = int(self.table["alert"].sum())
        said = (f"**{alerts} change{'s' if alerts != 1 else ''} since the first drop of the year "
                f"{'are' if alerts != 1 else 'is'} clear** (listed below)." if alerts else
                "No gap has changed clearly since the first drop of the year.")
        return markdown(f"{name}: assessments on file for {', '.join(parts)}. {said}")

    def year_groups(self):
        """The year group's gap at each drop, and its change since the first drop."""
        rows = self.table[self.table["level"] != TEACHING_GROUP]
        if rows.empty:
            return markdown("No assessments to show.")
        section = Section()
        section.append(self._table(rows, group=False))
        chart = self._chart(rows)
        if chart is not None:
            section.append(chart)
        return section

    def alerts(self):
        """Every clear change in a gap since the first drop, in words that point at support."""
        rows = self.table[self.table["alert"]]
        if rows.empty:
            return markdown("No gap, in a year group or a teaching group, has changed clearly since the first drop "
                            "of the year: the changes seen are within what chance gives with groups this size.")
        first = self._first_drops()
        lines = []
        for r in rows.itertuples(index=False):
            where = f"{year_group_name(r.year_group)} {md_text(r.subject)}"
            since = md_text(first.get((r.year_group, r.subject), "the first drop"))
            who = f"in {md_text(r.group)} ({where})" if r.level == TEACHING_GROUP else f"across {where}"
            size = f"{abs(r.change_sd):.2f} SD (95% interval {r.change_ci_low:.2f} to {r.change_ci_high:.2f})"
            if r.change_sd > 0:
                support = (f"worth a look at how the disadvantaged pupils in {md_text(r.group)} are supported"
                           if r.level == TEACHING_GROUP else
                           "worth a look at how the year group's disadvantaged pupils are supported")
                lines.append(f"- By {md_text(r.drop)}, the gap {who} has **widened** by {size} since {since}: "
                             f"{support}.")
            else:
                lines.append(f"- By {md_text(r.drop)}, the gap {who} has **narrowed** by {size} since {since}: "
                             "worth finding out what is helping, so that it can be shared.")
        return markdown("\n".join(lines))

    def teaching_groups(self):
        """Each teaching group's gap at the latest drop: as measured, allowing for its size, and its change."""
        rows = self.table[self.table["level"] == TEACHING_GROUP]
        if rows.empty:
            return markdown("The assessments have no `teaching_group` column, so there are no teaching groups "
                            "to show.")
        latest = rows.groupby(["year_group", "subject"])["drop_index"].transform("max")
        rows = rows[rows["drop_index"] == latest]
        return self._table(rows.sort_values(["year_group", "subject", "group"]), group=True)

    def targeted(self):
        """The targeted pupils against their peers at each drop: catching up, holding or falling behind."""
        from ..analysis.targeted import targeted_progress

        if self.targets is None:
            return markdown("No pupil list was given (a `targets.csv` from an earlier run, or a list of "
                            "pupil ids), so the targeted pupils' progress is not shown.")
        ids = self.targets
        if not isinstance(ids, (list, tuple, set, pd.Series, np.ndarray)):
            from ..io.assessments import read_pupil_list

            ids = read_pupil_list(ids)
        if not len(ids):
            return markdown("The pupil list is empty, so there are no targeted pupils to follow.")
        t = targeted_progress(self.assessments, ids, threshold=self.threshold)
        self._targeted = t
        if t.empty:
            return markdown("None of the pupils on the list has an assessment on file.")
        listed = set(map(str, ids))
        assessed = self.assessments.loc[self.assessments["pupil_id"].isin(listed), "pupil_id"].nunique()
        about = markdown(f"The pupil list holds {len(listed)} pupil{'s' if len(listed) != 1 else ''}; {assessed} "
                         "of them have assessments on file here. Their peers are the other pupils of the same "
                         "year group in the same subject.")
        shown = pd.DataFrame({
            "Year group": t["year_group"].map(year_group_name), "Subject": t["subject"], "Drop": t["drop"],
            "Targeted pupils": t["n_targeted"], "Peers": t["n_peers"],
            "Behind peers (SD, 95% interval)": [_sd(x, lo, hi) for x, lo, hi in
                                                zip(t["behind_sd"], t["behind_ci_low"], t["behind_ci_high"])],
            "Change since the first drop": [_sd(x, lo, hi) for x, lo, hi in
                                            zip(t["change_sd"], t["change_ci_low"], t["change_ci_high"])],
            "So far": [cap(v) if not is_missing(v) else (withheld_text(r, self.threshold)
                                                         if not is_missing(r) else "")
                       for v, r in zip(t["verdict"], t["withheld_reason"])],
        })
        return Section([about, Table(shown.astype(object).where(shown.notna(), ""))])

    def write_outputs(self):
        """Add ``in_year`` to the school's ``results.json`` in ``out_dir`` (nothing when it is None)."""
        if self.out_dir is None:
            return []
        from ..analysis.in_year import add_to_results

        return [add_to_results(self.out_dir, self.table)]

    # ------------------------------------------------------------ helpers
    def _first_drops(self) -> dict:
        t = self.table[self.table["drop_index"] == 0]
        return {(r.year_group, r.subject): r.drop for r in t.itertuples(index=False)}

    def _table(self, rows: pd.DataFrame, *, group: bool):
        first = self._first_drops()
        out = pd.DataFrame({"Year group": rows["year_group"].map(year_group_name), "Subject": rows["subject"]})
        if group:
            out["Teaching group"] = rows["group"]
        out["Drop"] = rows["drop"]
        out["Disadvantaged pupils"] = rows["n_disadvantaged"]
        out["Other pupils"] = rows["n_other"]
        out["Gap (95% interval)"] = [_with(x, lo, hi) for x, lo, hi in zip(rows["gap"], rows["ci_low"],
                                                                            rows["ci_high"])]
        if group:
            out["Gap allowing for the group's size"] = rows["shrunk_gap"].map(_n)
        out["Change since the first drop"] = [
            _sd(x, lo, hi) + (f" since {first.get((y, s))}" if not is_missing(x) else "")
            for x, lo, hi, y, s in zip(rows["change_sd"], rows["change_ci_low"], rows["change_ci_high"],
                                       rows["year_group"], rows["subject"])]
        out["Clear change?"] = ["" if is_missing(c) else ("yes" if a else "no")
                                for a, c in zip(rows["alert"], rows["change_sd"])]
        out["Withheld"] = [withheld_text(r, self.threshold) if not is_missing(r) else ""
                           for r in rows["withheld_reason"]]
        if not out["Withheld"].astype(bool).any():
            out = out.drop(columns="Withheld")
        return Table(out.astype(object).where(out.notna(), "").reset_index(drop=True))

    def _chart(self, rows: pd.DataFrame):
        from matplotlib.figure import Figure

        from .charts import describe, wrap

        shown = rows[rows["gap"].notna()]
        if shown.empty or shown["drop_index"].max() < 1:
            return None
        units = list(shown.groupby(["year_group", "subject"], sort=True))
        fig = Figure(figsize=(8, 1.2 + 2.2 * len(units)), layout="constrained")
        axes = fig.subplots(len(units), 1, squeeze=False)[:, 0]
        words = []
        for ax, ((yg, subject), r) in zip(axes, units):
            r = r.sort_values("drop_index")
            x = np.arange(len(r))
            ax.errorbar(x, r["gap"].astype(float), yerr=[(r["gap"] - r["ci_low"]).astype(float),
                                                         (r["ci_high"] - r["gap"]).astype(float)],
                        marker="o", capsize=4)
            ax.axhline(0, color="#333333", lw=0.8)
            ax.set_xticks(x, [wrap(_chart_text(d), 1.4, 9) for d in r["drop"]], fontsize=9)
            ax.set_ylabel("Gap (score)", fontsize=9)
            ax.set_title(_chart_text(f"{year_group_name(yg)} {subject}"), loc="left", fontsize=10)
            words.append(f"{year_group_name(yg)} {subject}: "
                         + ", ".join(f"{d} {g:.2f}" for d, g in zip(r["drop"], r["gap"])))
        title = "The year group's gap at each drop (above 0: disadvantaged pupils behind)"
        # kept on the figure, as charts.set_title does, for describe's text alternative (an attribute of
        # gaptools's own that matplotlib's Figure does not declare)
        setattr(fig, "gaptools_title", title)  # noqa: B010 (a plain assignment fails mypy: see above)
        fig.suptitle(wrap(title, 7.7, 12), x=0.01, ha="left", fontsize=12, fontweight="bold")
        describe(fig, "The gap between disadvantaged pupils and the others at each drop, with 95% intervals. "
                 + "; ".join(words) + ".")
        return fig
