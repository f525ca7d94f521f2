"""The pupils to focus on: current pupils ranked by need, with reasons, and the school's targeting files.

The priorities come from past results; the pupils come only from the table of
pupils on roll now (their working-at grades, attendance to date, ...), so a
pupil who has left is never listed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..domain.columns import NAME_COLUMNS


@dataclass(frozen=True)
class Bar:
    """A bar a pupil can fall below, and how far below counts as one more step."""

    column: str
    needs: tuple[str, ...]   # the priority areas (see ``evidence.NEEDS``) this measure speaks to
    label: str
    bar: float               # the value that counts: a pupil below it has a need
    step: float              # each further step below the bar adds a point
    unit: float              # the smallest shortfall a value can have (1 grade, 1 point, 0 for a percentage)
    bar_text: str            # how the page names the bar
    step_text: str


#: The bars, in the order reasons are written.
BARS = (
    Bar("grade_english", ("literacy", "teaching"), "English", 4, 1, 1, "grade 4 (a standard pass)", "a grade"),
    Bar("grade_maths", ("maths", "teaching"), "maths", 4, 1, 1, "grade 4 (a standard pass)", "a grade"),
    Bar("reading_score", ("literacy", "teaching"), "reading", 100, 5, 1, "a scaled score of 100 (the expected "
        "standard)", "5 points"),
    Bar("gps_score", ("literacy",), "GPS", 100, 5, 1,
        "a scaled score of 100 (the expected standard)", "5 points"),
    Bar("maths_score", ("maths", "teaching"), "maths", 100, 5, 1, "a scaled score of 100 (the expected standard)",
        "5 points"),
    Bar("attendance_pct", ("attendance",), "attendance", 90, 5, 0, "90% (below it a pupil is persistently absent)",
        "5 percentage points"),
    Bar("suspensions", ("behaviour",), "suspensions", 0, 1, 1, "no suspension", "a suspension"),
)
WRITING_BELOW = {"WTS": 1.0}  # working towards: one step below EXS; anything lower (PK, BLW, HNM): two


@dataclass(frozen=True)
class Weights:
    """How the need score is built (stated on the page so anyone can check a pupil's place by hand)."""

    below_bar: float = 1.0        # for being below a bar at all
    per_step: float = 1.0         # for each further step below it
    most_per_measure: float = 4.0  # no single measure counts for more than this
    priority_factor: float = 2.0  # points in one of the school's priority areas count this many times


RULE = ("Each pupil scores, for every measure below its bar (grade 4 in English or maths; a scaled score of 100; "
        "90% attendance; no suspension), 1 point plus 1 for each further step below it (a grade, 5 score points, "
        "5 percentage points of attendance, a suspension), at most 4 per measure, doubled for measures in the "
        "school's priority areas; the highest score comes first, so a pupil far below a bar ranks above one just "
        "below it.")

TARGET_COLUMNS = ["rank", "pupil_id", *NAME_COLUMNS, "key_stage", "year_group", "form", "year", "disadvantaged",
                  "score", "priorities",
                  "reasons", "sen", "eal", "attendance_pct", "suspensions", "grade_english", "grade_maths",
                  "reading_score", "gps_score", "maths_score", "writing_ta", "prior_attainment"]


def _steps(bar: Bar, value: np.ndarray, w: Weights) -> np.ndarray:
    """Points for each value: 0 at or above the bar, else 1 + further steps below, capped."""
    if bar.column == "suspensions":
        short = value - bar.bar  # lower is better: every suspension is a step
        pts = np.where(short > 0, w.below_bar + w.per_step * (short - bar.unit) / bar.step, 0.0)
    else:
        short = bar.bar - value
        pts = np.where(short > 0, w.below_bar + w.per_step * np.maximum(short - bar.unit, 0) / bar.step, 0.0)
    return np.minimum(np.nan_to_num(pts, nan=0.0), w.most_per_measure)


def _fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def _reason(bar: Bar, v: float) -> str:
    if bar.column.startswith("grade_"):
        grade = "U" if v == 0 else f"{int(v)}"
        return f"{bar.label} grade {grade}: {int(bar.bar - v)} below a standard pass"
    if bar.column == "attendance_pct":
        return f"attendance {v:.1f}%: {bar.bar - v:.1f} points below 90%" + (" (severely absent)" if v < 50 else "")
    if bar.column == "suspensions":
        return f"{int(v)} suspension{'s' if v > 1 else ''}"
    return f"{bar.label} {int(v)}: {int(bar.bar - v)} below the expected 100"


def on_roll(current: pd.DataFrame, pupils: pd.DataFrame, school_id: str, key_stage: str) -> tuple[pd.DataFrame, int]:
    """The school's current pupils of ``key_stage`` whose results are still to come, and how many rows of
    ``current`` are left out because their year already has results in ``pupils`` (they have left)."""
    past = pupils[(pupils["school_id"] == school_id) & (pupils["key_stage"] == key_stage)]
    cur = current[(current["school_id"] == school_id) & (current["key_stage"] == key_stage)]
    done = (cur["year"] <= int(past["year"].max())).to_numpy(dtype=bool, na_value=False)
    return cur[~done], int(done.sum())


def target_pupils(current: pd.DataFrame, school_id: str, *, key_stage: str | None = None,
                  priorities: pd.DataFrame | None = None, all_pupils: bool = False,
                  weights: Weights = Weights()) -> pd.DataFrame:
    """The school's current pupils to focus on, ranked by need, each with plain reasons.

    Scoring (:data:`RULE`, weights in :class:`Weights`): for every measure of
    :data:`BARS` a pupil is below the bar of, 1 point plus 1 per further step
    below it, at most 4 per measure; KS2 writing counts 1 for WTS and 2 for
    anything lower, a KS2 test code of B (working below the test) counts as far
    below as a score can be. Points in a measure of one of the school's
    ``priorities`` count twice. Ties are broken by pupil id.

    Parameters
    ----------
    current : DataFrame
        The pupils on roll now (from :func:`gaptools.load_pupils`), ``year``
        being the summer their results will belong to, with in-year data.
    school_id : str
    key_stage : str, optional
        Only pupils of this key stage (default: all the school's current pupils).
    priorities : DataFrame, optional
        From :func:`gaptools.priorities` (past results). When it holds any
        priority, only pupils below a bar in a priority area are listed;
        otherwise every pupil below any bar.
    all_pupils : bool, default False
        Include pupils who are not disadvantaged too.
    weights : Weights

    Returns
    -------
    DataFrame
        Columns of :data:`TARGET_COLUMNS` that the data has: ``score``,
        ``priorities`` (the school's priorities the pupil's needs match, each by
        rank and area, e.g. "1 literacy; 3 attendance") and ``reasons``,
        highest score first. Where the table has ``year_group`` (a tracker of
        Year 10 and Year 11), the pupils are grouped by it, the soonest results
        first, and ``rank`` counts within each year group; ``year_group`` and
        ``form`` are then columns too.
    """
    rows = current[current["school_id"].astype(str) == str(school_id)]
    if key_stage is not None:
        rows = rows[rows["key_stage"] == key_stage]
    if not all_pupils:
        rows = rows[rows["disadvantaged"].astype(bool)]
    n = len(rows)
    need_rank = {} if priorities is None or priorities.empty else dict(zip(priorities["need"], priorities["rank"]))
    rank_need = {r: nd for nd, r in need_rank.items()}
    score = np.zeros(n)
    in_priority = np.zeros(n, dtype=bool)
    matched: list[set[int]] = [set() for _ in range(n)]
    reasons: list[list[tuple[bool, str]]] = [[] for _ in range(n)]

    def add(i: int, pts: float, needs: tuple[str, ...], text: str) -> None:
        ranks = {need_rank[nd] for nd in needs if nd in need_rank}
        score[i] += pts * (weights.priority_factor if ranks else 1.0)
        in_priority[i] |= bool(ranks)
        matched[i] |= ranks
        reasons[i].append((bool(ranks), text))

    for bar in BARS:
        if bar.column not in rows.columns:
            continue
        v = rows[bar.column].astype("float64").to_numpy()
        pts = _steps(bar, v, weights)
        for i in np.flatnonzero(pts > 0).tolist():
            add(i, pts[i], bar.needs, _reason(bar, v[i]))
        code = f"{bar.column}_code"
        if code in rows.columns:  # B: working below the standard of the test: as far below as can be
            for i in np.flatnonzero((rows[code] == "B").to_numpy(dtype=bool, na_value=False)).tolist():
                add(i, weights.most_per_measure, bar.needs, f"{bar.label}: B, working below the test")
    if "writing_ta" in rows.columns:
        ta = rows["writing_ta"].astype(object).to_numpy()
        for i, t in enumerate(ta):
            if isinstance(t, str) and t not in ("EXS", "GDS") and t not in ("A", "D", "L", "F", "P", "Q"):
                steps = WRITING_BELOW.get(t, 2.0)
                add(i, weights.below_bar + weights.per_step * (steps - 1), ("literacy",),
                    f"writing {t}: below the expected standard (EXS)")
    keep = score > 0
    if need_rank:
        keep &= in_priority
    out = pd.DataFrame({
        "pupil_id": rows["pupil_id"].astype(str).to_numpy(),
        **{c: rows[c].to_numpy() for c in NAME_COLUMNS if c in rows.columns},
        "key_stage": rows["key_stage"].to_numpy(),
        **{c: rows[c].to_numpy() for c in ("year_group", "form") if c in rows.columns},
        "year": rows["year"].to_numpy(),
        "disadvantaged": rows["disadvantaged"].astype(bool).to_numpy(),
        "score": np.round(score, 2),
        # each priority by its rank and its name: "1 literacy; 3 attendance" (a bare "1, 3" means nothing to staff)
        "priorities": ["; ".join(f"{r} {rank_need[r]}" for r in sorted(m)) for m in matched],
        # the reasons in the school's priority areas first
        "reasons": ["; ".join(t for _, t in sorted(r, key=lambda x: not x[0])) for r in reasons],
        **{c: rows[c].to_numpy() for c in TARGET_COLUMNS[TARGET_COLUMNS.index("sen"):] if c in rows.columns},
        # a KS2 test code stands where there is no score: shown in the score's column
        **{f"{c}_code": rows[f"{c}_code"].to_numpy() for c in ("reading_score", "gps_score", "maths_score")
           if f"{c}_code" in rows.columns},
    })[keep]
    by_group = "year_group" in out.columns and bool(out["year_group"].notna().any())
    keys = (["year"] if by_group else []) + ["score", "pupil_id"]
    out = out.sort_values(keys, ascending=[True] * by_group + [False, True], kind="stable").reset_index(drop=True)
    out.insert(0, "rank", out.groupby("year").cumcount().to_numpy() + 1 if by_group else range(1, len(out) + 1))
    return out[[c for c in TARGET_COLUMNS if c in out.columns] + [c for c in out.columns if c.endswith("_code")]]


#: The names staff read, for the columns of :func:`target_pupils`.
STAFF_NAMES = {"rank": "Rank", "pupil_id": "UPN", "forename": "Forename", "surname": "Surname",
               "key_stage": "Key stage", "year_group": "Year group", "form": "Form", "year": "Results in",
               "disadvantaged": "Disadvantaged",
               "score": "Need score", "priorities": "Priorities", "reasons": "Reasons",
               "sen": "SEN", "eal": "EAL", "attendance_pct": "Attendance %", "suspensions": "Suspensions",
               "grade_english": "English", "grade_maths": "Maths", "reading_score": "Reading",
               "gps_score": "GPS", "maths_score": "Maths score", "writing_ta": "Writing",
               "prior_attainment": "KS2 average"}
#: Staff-list columns holding numbers (stored as numbers in the workbook, so filters and sorting work).
NUMERIC = ("Rank", "Need score", "Attendance %", "Suspensions", "English", "Maths", "Reading", "GPS", "Maths score",
           "KS2 average", "Year group", "Results in")
#: Columns always shown, even where every pupil has the same value.
_ALWAYS = ("rank", "pupil_id", "forename", "surname", "score", "reasons")


def _grade(v) -> str:
    if v is None or pd.isna(v):
        return ""
    return "U" if float(v) == 0 else _fmt(float(v))  # a double award's mean shows its half (4.5)


def _whole(v) -> str:
    return "" if v is None or pd.isna(v) else str(int(round(float(v))))


def staff_list(targets: pd.DataFrame, keep=()) -> pd.DataFrame:
    """The pupil list as staff read it: readable headings, whole-number grades, no constant columns.

    Parameters
    ----------
    targets : DataFrame
        From :func:`target_pupils`.
    keep : iterable of str
        Columns kept even when every pupil shares their value (the year group
        the workbook makes a sheet of).

    Returns
    -------
    DataFrame
        Text cells; a column every pupil shares the same value of (or none has)
        is left out, except rank, UPN, names, score and reasons.
    """
    t = targets.copy()
    formats = {
        "disadvantaged": lambda v: "yes" if v is True or v == 1 else "no",
        "sen": lambda v: {"K": "SEN support", "E": "EHC plan", "N": ""}.get(v, "") if isinstance(v, str) else "",
        "eal": lambda v: "yes" if v is True else "",
        "attendance_pct": lambda v: "" if pd.isna(v) else f"{float(v):.1f}",
        "score": lambda v: _fmt(float(v)),
        "grade_english": _grade, "grade_maths": _grade,
        "suspensions": _whole, "year_group": _whole, "year": _whole, "reading_score": _whole, "gps_score": _whole,
        "maths_score": _whole,
        "prior_attainment": lambda v: "" if pd.isna(v) else f"{float(v):.1f}",
    }
    for col, f in formats.items():
        if col in t.columns:
            t[col] = [f(v) for v in t[col].astype(object)]
    for code in [c for c in t.columns if c.endswith("_code")]:
        col = code[:-len("_code")]
        if col in t.columns:
            t[col] = [c if s == "" and isinstance(c, str) else s for s, c in zip(t[col], t[code].astype(object))]
        t = t.drop(columns=code)
    for col in t.columns:
        t[col] = t[col].astype(object).where(t[col].notna(), "").astype(str)
    drop = [c for c in t.columns if c not in _ALWAYS and ((t[c] == "").all() if c in keep else
                                                           (t[c].nunique() <= 1 if len(t) > 1 else (t[c] == "").all()))]
    return t.drop(columns=drop).rename(columns=STAFF_NAMES)


def write_targeting_outputs(out_dir, school_id: str, targets: pd.DataFrame, strategy: str) -> list:
    """Write ``targets.csv``, ``targets.xlsx`` (this school's pupils only) and ``strategy.md`` into ``out_dir``.

    Both lists are the staff list (:func:`staff_list`), every cell safe to open
    in a spreadsheet (:func:`gaptools.io.spreadsheet.safe_csv`), readable by
    their owner only (0600: they name pupils). The CSV is UTF-8 with a
    byte-order mark, so Excel on Windows reads Zoë as Zoë; the workbook
    (:func:`gaptools.io.workbook.workbook_bytes`) has a sheet per year group
    where the data has one. Writes are atomic: a reader never sees half a file.
    """
    from pathlib import Path

    from ..io.files import atomic_write_bytes, atomic_write_text
    from ..io.spreadsheet import safe_csv
    from ..io.workbook import workbook_bytes

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if "school_id" in targets.columns and (targets["school_id"].astype(str) != str(school_id)).any():
        raise ValueError("targets hold pupils of another school: refusing to write them")
    staff = staff_list(targets, keep=("year_group",))
    # the pupil lists name pupils: their owner's alone (0600); the strategy names none: shared as the umask allows
    written = [atomic_write_text(out / "targets.csv", "\ufeff" + safe_csv(staff), private=True),
               atomic_write_bytes(out / "targets.xlsx", workbook_bytes(staff, sheets_by=STAFF_NAMES["year_group"],
                                                                       numeric=NUMERIC), private=True),
               atomic_write_text(out / "strategy.md", strategy)]
    return written
