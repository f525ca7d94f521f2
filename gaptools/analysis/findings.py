"""Plain-English findings a head teacher can act on, ranked by importance.

Only gaps that survive false-discovery-rate control (``clear`` in the gap
table) are called gaps; the rest say "no clear difference", and withheld
groups say "too few pupils to say". Noise is never described as a finding.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.formatting import (
    amount,
    comparator,
    is_yes,
    number,
    value_text,
    withheld_text,
)
from ..domain.labels import SUBGROUP_WORDS as _SUBGROUP_WORDS
from ..domain.labels import subgroup_words
from ..domain.measures import STANDARD_MEASURES
from ..domain.registry import DEFAULT_WEIGHT, headline, pairs, weights
from ..domain.suppression import DEFAULT_THRESHOLD
from .gapindex import index_interval
from .trends import with_verdicts

COLUMNS = ["school_id", "key_stage", "year", "measure", "category", "importance", "text"]
#: How much a measure matters in a report: headline outcomes first.
#: (all from the registry: each measure's weight, the findings' headline list, the subjects compared)
WEIGHT = weights()
HEADLINE = headline("findings")
PAIRS = pairs()
SUBGROUP_WORDS = _SUBGROUP_WORDS  # the label table's (kept here for older imports)




def _unit_words(row) -> str:
    if row["unit"] == "%":
        return "percentage points"
    return {"grades": "grades", "points": "points"}.get(row["unit"], row["unit"])


def _interval(row, of_size: bool = False) -> str:
    """The gap's 95% interval; ``of_size`` gives it for the gap's size (its absolute value),
    as the sentences that say "ahead"/"fewer" in words print the size, not the signed gap."""
    low, high = row["ci_low"], row["ci_high"]
    if of_size and row["gap"] < 0:
        low, high = -high, -low
    return f"95% interval {number(low, row['unit'], row['measure'])} to {number(high, row['unit'], row['measure'])}"


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _times(ratio: float) -> str:
    if ratio < 1.75:
        return f"about {ratio:.1f} times"
    if ratio < 2.5:
        return "about twice"
    if ratio < 3.5:
        return "about three times"
    return f"about {ratio:.0f} times"


def _gap_sentence(row, against: str, against_poss: str | None = None) -> str:
    m, unit = row["measure"], row["unit"]
    gap = abs(row["gap"])
    behind = row["gap"] > 0
    if row["kind"] == "rate" and m not in STANDARD_MEASURES:
        # a measure declared in a mapping file: its label may be any phrase
        more_less = ("more" if behind else "fewer") if not row["higher_is_better"] else \
            ("fewer" if behind else "more")
        return (f"{row['label'][:1].upper() + row['label'][1:]}: {_pct(row['mean_disadvantaged'])} of disadvantaged "
                f"pupils against {_pct(row['mean_reference'])} of {against}, {number(gap, unit, m)} percentage "
                f"points {more_less} ({_interval(row, of_size=True)}).")
    if row["kind"] == "rate":
        verb = "were" if not row["higher_is_better"] else "reached"
        ref = _pct(row["mean_reference"])
        more_less = ("more" if not row["higher_is_better"] else "fewer") if behind else \
            ("fewer" if not row["higher_is_better"] else "more")
        return (f"{_pct(row['mean_disadvantaged'])} of disadvantaged pupils {verb} {row['label']}, against "
                f"{ref} of {against}: {number(gap, unit, m)} percentage points {more_less} "
                f"({_interval(row, of_size=True)}).")
    if not row["higher_is_better"]:
        word = "more" if behind else "fewer"
        return (f"Disadvantaged pupils had {word} {row['label']}: "
                f"{value_text(row['mean_disadvantaged'], unit, m, row['kind'])} against "
                f"{value_text(row['mean_reference'], unit, m, row['kind'])} for {against} "
                f"({_interval(row, of_size=True)}).")
    direction = "behind" if behind else "ahead of"
    return (f"Disadvantaged pupils' {row['label']} is {number(gap, unit, m)} {_unit_words(row)} {direction} "
            f"{against_poss or against + chr(39)} ({value_text(row['mean_disadvantaged'], unit, m, row['kind'])} "
            f"against {value_text(row['mean_reference'], unit, m, row['kind'])}; {_interval(row, of_size=True)}).")


def concentration(split_rows: pd.DataFrame):
    """The one subgroup of a split where a gap is concentrated, or None.

    Concentrated means: exactly one subgroup has a clear gap; every other
    subgroup's gap is under half of it; and the difference between them is
    itself clear at 99% (a stricter bar than for a gap: many splits are looked at).

    Parameters
    ----------
    split_rows : DataFrame
        The rows of one measure and split (``clear``, ``gap`` and ``se``
        columns at least).

    Returns
    -------
    (Series, DataFrame) or None
        The subgroup's row and the other subgroups' rows.
    """
    i = _concentrated(split_rows["gap"].to_numpy(dtype=float, na_value=np.nan),
                      split_rows["clear"].fillna(False).astype(bool).to_numpy(),
                      split_rows["se"].to_numpy(dtype=float, na_value=np.nan), np.asarray(split_rows.index))
    if i is None:
        return None
    return split_rows.iloc[i], split_rows[split_rows.index != split_rows.index[i]]


def _concentrated(gap: np.ndarray, clear: np.ndarray, se: np.ndarray, labels: np.ndarray) -> int | None:
    """:func:`concentration` on one split's arrays: the position of the subgroup, or None.

    On arrays because a report tests about a hundred splits and finds few: only
    a split that passes is taken apart into rows.
    """
    clear = clear & (gap > 0)
    if np.count_nonzero(clear) != 1 or len(gap) < 2:
        return None
    i = int(np.flatnonzero(clear)[0])
    rest = labels != labels[i]
    if not (gap[rest] < gap[i] / 2).all():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        diff_se = np.sqrt(se[i] ** 2 + se[rest] ** 2)
        if not ((gap[i] - gap[rest]) / diff_se > 2.576).all():
            return None
    return i


#: The measures whose gap :func:`concentration` looks for in one subgroup.
CONCENTRATION_MEASURES = headline("concentration")


def _importance(row) -> float:
    if row["kind"] == "score" and pd.notna(row.get("effect_size")):
        size = abs(row["effect_size"])
    elif row["kind"] == "rate":
        p1, p2 = row["mean_disadvantaged"], row["mean_reference"]
        size = abs(2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p2)))  # Cohen's h
    else:
        se = row.get("se")
        size = abs(row["gap"]) / (se * np.sqrt(max(row["n_disadvantaged"], 1))) if se else 0.0
    weight = WEIGHT.get(row["measure"], DEFAULT_WEIGHT)
    return float(size * weight * np.log1p(row["n_disadvantaged"] or 0))


def findings(gaps: pd.DataFrame, trends: pd.DataFrame | None = None, index: pd.DataFrame | None = None,
             *, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Ranked plain-English statements about each school, key stage and year.

    Parameters
    ----------
    gaps : DataFrame
        The results model (:func:`gaptools.analysis.results.results_table`), or
        :func:`gaptools.gap_table` with ``detail=True``.
    trends : DataFrame, optional
        :func:`gaptools.gap_trends` of the same gaps (for a plain gap table;
        the results model already carries each gap's trend verdict).
    index : DataFrame, optional
        :func:`gaptools.gap_index` rows, reported beside the national series.
    threshold : int
        The suppression threshold, to say how few is too few.

    Returns
    -------
    DataFrame
        ``school_id, key_stage, year, measure, category, importance, text``,
        most important first within each school, key stage and year.
        Categories: ``gap`` (a clear gap), ``ahead`` (disadvantaged clearly
        ahead), ``national`` (clearly behind a national comparator, named in the text),
        ``subgroup`` (where a gap is concentrated), ``closing``/``widening``,
        ``no_clear_difference``, ``too_few``, ``context``.
    """
    out: list[dict] = []
    if "clear" not in gaps.columns:
        raise ValueError("findings needs gap_table(..., detail=True)")
    for (sid, ks, year), g in gaps.groupby(["school_id", "key_stage", "year"], sort=True):
        whole = g[g["subgroup"].isna()]
        ins = whole[whole["comparison"] == "in_school"].set_index("measure", drop=False)
        base = {"school_id": sid, "key_stage": ks, "year": int(year)}

        def add(measure, category, importance, text, *, base=base):  # base bound now: defined in a loop
            out.append({**base, "measure": measure, "category": category,
                        "importance": round(float(importance), 4), "text": text})

        withheld = ins[ins["suppressed"]]
        reasons = (set(withheld["withheld_reason"].dropna()) if "withheld_reason" in withheld.columns
                   else set())
        if len(ins) and len(withheld) == len(ins) and reasons == {"no_comparison_group"}:
            add(None, "too_few", 5.0,
                f"There is no comparison group in school in {year}: every pupil in this cohort is "
                "disadvantaged, or none is. Comparisons with national figures (other, disadvantaged or all "
                "pupils) are given where one is on file.")
        elif len(ins) and len(withheld) == len(ins):
            add(None, "too_few", 5.0,
                f"Too few disadvantaged pupils (or too few others) in {year} to report any gap in school: "
                f"groups of fewer than {threshold} pupils are withheld so that no pupil can be identified.")
        elif len(withheld):
            names = ", ".join(withheld["label"].head(6))
            add(None, "too_few", 0.0,
                f"Nothing can be said about {names}: " + "; ".join(
                    withheld_text(r, threshold) for r in dict.fromkeys(
                        withheld["withheld_reason"] if "withheld_reason" in withheld.columns
                        else [None] * len(withheld))) + ".")
        ratio_note = {}
        for a, b, name_a, name_b in PAIRS:
            if a in ins.index and b in ins.index:
                ra, rb = ins.loc[a], ins.loc[b]
                if is_yes(ra["clear"]) and not ra["suppressed"] and not rb["suppressed"] \
                        and rb["gap"] > 0 and ra["gap"] > rb["gap"] and ra["ci_low"] > rb["gap"]:
                    ratio_note[a] = f": {_times(ra['gap'] / rb['gap'])} their {name_b} gap"
                elif is_yes(rb["clear"]) and not ra["suppressed"] and not rb["suppressed"] \
                        and ra["gap"] > 0 and rb["gap"] > ra["gap"] and rb["ci_low"] > ra["gap"]:
                    ratio_note[b] = f": {_times(rb['gap'] / ra['gap'])} their {name_a} gap"
        for _, row in ins[~ins["suppressed"]].iterrows():
            if is_yes(row["clear"]):
                text = _gap_sentence(row, "other pupils")
                if row["measure"] in ratio_note:
                    text = text[:-1] + ratio_note[row["measure"]] + "."
                if row["measure"].startswith("va_"):
                    text += (" (Measured against pupils with similar KS2 results in the schools analysed, "
                             "not nationally.)")
                add(row["measure"], "gap" if row["gap"] > 0 else "ahead", _importance(row), text)
            elif row["measure"] in HEADLINE:
                caveat = (" once the number of comparisons in this report is allowed for"
                          if is_yes(row["significant"]) else "")
                add(row["measure"], "no_clear_difference", 0.0,
                    f"No clear difference between disadvantaged and other pupils in {row['label']}{caveat} "
                    f"(gap {number(row['gap'], row['unit'], row['measure'])}, {_interval(row)}).")
        nat = whole[whole["comparison"].str.startswith("national_") & ~whole["suppressed"]]
        for _, row in nat.iterrows():
            if is_yes(row["clear"]):
                text = _gap_sentence(row, f"{comparator(row['comparison'])} ({year})",
                                     f"{comparator(row['comparison'], possessive=True)} ({year})")
                weight = 0.7 if row["comparison"] == "national_disadvantaged" else 0.9
                add(row["measure"], "national" if row["gap"] > 0 else "ahead", _importance(row) * weight, text)
        subs = g[g["subgroup"].notna() & (g["comparison"] == "in_school") & ~g["suppressed"]
                 & g["measure"].isin(CONCENTRATION_MEASURES)]
        # each split is tested on arrays (in the group-by's order); only the rows of
        # a split that passes are taken from subs
        split = subs.groupby([subs["measure"], subs["subgroup"].str.split("=").str[0]]).ngroup().to_numpy()
        order = np.argsort(split, kind="stable")
        order = order[split[order] >= 0]
        gap = subs["gap"].to_numpy(dtype=float, na_value=np.nan)
        clear = subs["clear"].fillna(False).astype(bool).to_numpy()
        se = subs["se"].to_numpy(dtype=float, na_value=np.nan)
        labels = np.asarray(subs.index)
        for pos in np.split(order, np.flatnonzero(np.diff(split[order])) + 1):
            if _concentrated(gap[pos], clear[pos], se[pos], labels[pos]) is None:
                continue
            measure = subs["measure"].iloc[pos[0]]
            top, rest = concentration(subs.iloc[pos])
            others = "; ".join(f"{number(r['gap'], r['unit'], measure)} for "
                               f"{subgroup_words(r['subgroup'])}" for _, r in rest.iterrows())
            add(measure, "subgroup", _importance(top) * 0.8,
                f"The {top['label']} gap is concentrated in {subgroup_words(top['subgroup'])}: "
                f"{number(top['gap'], top['unit'], measure)} {_unit_words(top)} ({_interval(top)}), against "
                f"{others}.")
        # trend sentences: the results model's verdict for each headline measure
        verdicts = ins if "trend" in ins.columns else with_verdicts(ins, trends) if trends is not None \
            and len(trends) else ins.iloc[0:0].assign(trend=None)
        for _, r in verdicts[verdicts["trend"].isin(["closing", "widening"])].iterrows():
            m = r["measure"]
            if m not in HEADLINE:
                continue
            verb = "narrowed" if r["trend"] == "closing" else "widened"
            unit, kind = r["unit"], r["kind"]
            say = lambda x, unit=unit, m=m, kind=kind: amount(x, unit, m, kind)  # noqa: E731
            # a clear change in a headline measure is among the first things a head needs to know
            z = abs(r["trend_change"]) / max((r["trend_ci_high"] - r["trend_ci_low"]) / 3.92, 1e-9)
            add(m, r["trend"], 3.0 + z * WEIGHT.get(m, DEFAULT_WEIGHT),
                f"The {r['label']} gap has {verb} from {say(r['gap'] - r['trend_change'])} in "
                f"{int(r['trend_from'])} to {say(r['gap'])} in {year} (change {say(r['trend_change'])}; 95% interval "
                f"{number(r['trend_ci_low'], unit, m, kind)} to {number(r['trend_ci_high'], unit, m, kind)}).")
        if index is not None and len(index):
            gi = index[(index["school_id"] == sid) & (index["key_stage"] == ks) & (index["year"] == year)]
            for _, r in gi.iterrows():
                if r["suppressed"]:
                    continue
                if r["reference"] == "school":  # ranked within one school: its interval and pupils, never
                    # set beside the national index, whose pupils are ranked across England
                    low, high = index_interval(r["value"], r["n_disadvantaged"], r["n_other"])
                    add("gap_index", "context", 0.0,
                        f"Disadvantage gap index {r['value']:.2f} (95% interval {low:.2f} to {high:.2f}; "
                        f"{int(r['n_disadvantaged'])} disadvantaged and {int(r['n_other'])} other pupils, ranked "
                        "within the school; 0 = no gap, 10 = every other pupil ahead of every disadvantaged "
                        "pupil). Not comparable with the DfE's national index, which ranks pupils across England.")
                    continue
                nat_text = f"; the national figure for {ks} in {year} is {r['national']:.2f}" \
                    if pd.notna(r["national"]) else ""
                add("gap_index", "context", 0.0,
                    f"Disadvantage gap index {r['value']:.2f} (0 = no gap, 10 = every other pupil ahead of every "
                    f"disadvantaged pupil; ranked among the trust's pupils{nat_text}).")
    if not out:
        return pd.DataFrame(columns=COLUMNS)
    f = pd.DataFrame(out)
    category_order = {"too_few": 0, "gap": 1, "national": 1, "closing": 1, "widening": 1, "subgroup": 1,
                      "ahead": 2, "no_clear_difference": 3, "context": 4}
    f["_o"] = f["category"].map(category_order)
    # withheld-all first (nothing else to say), then findings by importance
    f["_o"] = np.where((f["category"] == "too_few") & (f["importance"] > 0), -1, f["_o"])
    f["_o"] = np.where(f["category"] == "too_few", np.where(f["importance"] > 0, -1, 5), f["_o"])
    f = f.sort_values(["school_id", "key_stage", "year", "_o", "importance"],
                      ascending=[True, True, True, True, False], kind="stable").drop(columns="_o")
    return f[COLUMNS].reset_index(drop=True)
