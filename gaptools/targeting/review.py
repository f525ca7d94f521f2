"""The review of last year's activities in words: what each estimate shows, and what it cannot.

Reads the rows of :func:`gaptools.activity_impact` and says each one without
overclaiming: an effect is called clear only where the row's ``clear`` says
so; an effect that is not clear is never called a failure, and the sentence
says how large an effect the numbers could have detected. Continue, adapt or
stop are questions for leaders; nothing here is a verdict on the staff who
ran an activity.
"""
from __future__ import annotations

import pandas as pd

from ..domain.formatting import academic_year, amount, cap, is_missing, is_yes, md_text, number

#: Why an activity's figures are not shown, in words (``{t}`` is the threshold).
ACTIVITY_WITHHELD_WORDS = {
    "too_few_participants": "withheld: fewer than {t} participants with results, so no pupil can be identified",
    "too_few_comparison": "withheld: fewer than {t} pupils who did not take part to compare with",
    "no_comparison_group": "a whole-cohort activity: every pupil took part, so there is no comparison group in "
                           "school; review it through the change in the gap and the comparison with national figures",
    "no_prior_attainment": "no estimate: without prior attainment, participants cannot be compared fairly with "
                           "other pupils (those chosen are usually behind to begin with)",
    "no_outcome": "no estimate: the participants have no results in this measure",
}
TIER_WORDS = {"teaching": "high-quality teaching", "targeted": "targeted academic support", "wider": "wider strategies"}
CLOSING = ("Whether to continue, adapt or stop an activity is a question for leaders, weighed with what the data "
           "cannot show: how it was delivered, what pupils and staff say, and what it cost. An effect that is not "
           "clear is not evidence that an activity failed, only that these numbers cannot tell; no figure here is "
           "a judgement of the staff who ran it.")


def signed(x, row) -> str:
    """An effect with its sign and unit: '+0.4 grades', '-3 percentage points'."""
    text = amount(x, row["unit"], row["measure"], row["kind"])
    return text if text.startswith("-") or _bare(x, row) in ("0", "0.0", "0.00") else "+" + text


def interval(row, low="ci_low", high="ci_high", effect="effect") -> str:
    """'+0.4 grades (0.1 to 0.7)'."""
    return f"{signed(row[effect], row)} ({_bare(row[low], row)} to {_bare(row[high], row)})"


def _bare(x, row) -> str:
    return number(x, row["unit"], row["measure"], row["kind"])


def _better(row) -> bool:
    return (row["effect"] > 0) == bool(row["higher_is_better"])


def effect_sentence(row, threshold: int) -> str:
    """What one row of :func:`gaptools.activity_impact` shows, in words that do not overclaim."""
    reason = row.get("withheld_reason")
    if not is_missing(reason):
        return ACTIVITY_WITHHELD_WORDS.get(reason, "withheld").format(t=int(threshold))
    n = int(row["n_participants"])
    if is_yes(row.get("clear")):
        which = "better" if _better(row) else "worse"
        text = (f"a clear effect of {interval(row)}: participants did {which} than comparable pupils who did not "
                "take part")
    else:
        mde = row["mde"]
        estimate = (f"(estimate {signed(row['effect'], row)}, interval {_bare(row['ci_low'], row)} to "
                    f"{_bare(row['ci_high'], row)})")
        text = (f"no clear effect; with {n} pupils only an effect above {mde:.1f} SD could have been detected "
                f"{estimate}" if not is_missing(mde) else f"no clear effect {estimate}")
    return text


def secondary_sentences(row, threshold: int) -> list[str]:
    """The lines beneath an estimate: the raw comparison it corrects, and the per-protocol check."""
    if not is_missing(row.get("withheld_reason")):
        return []
    out = []
    raw = row.get("raw_difference")
    if not is_missing(raw):
        out.append(f"A raw comparison with every other pupil would say {signed(raw, row)}; the estimate allows for "
                   "the pupils chosen having started from a different place.")
    if not is_missing(row.get("pp_effect")):
        pp = interval(row, "pp_ci_low", "pp_ci_high", "pp_effect")
        out.append(f"Pupils who attended at least 70% of sessions ({int(row['pp_n'])}): {pp}; a secondary check "
                   "on delivery, not the estimate.")
    if not is_missing(row.get("n_not_found")) and int(row["n_not_found"]) > 0:
        n = int(row["n_not_found"])
        out.append(f"{n} listed pupil{' is' if n == 1 else 's are'} not in the results data and not counted.")
    if not is_missing(row.get("balance")) and row["balance"] > 1:
        out.append(f"Participants differed from the others by up to {row['balance']:.1f} SD before adjustment: "
                   "the estimate leans on the adjustment, so read it with care.")
    return out


def review_rows(activities: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The review as a table for people: one row per activity and measure (text only)."""
    rows = []
    for _, r in activities.iterrows():
        shown = is_missing(r.get("withheld_reason"))
        pupils = f"{int(r['n_participants'])} / {int(r['n_comparison'])}" if shown else \
            ("" if is_missing(r.get("n_participants")) else f"{int(r['n_participants'])} / {int(r['n_comparison'])}")
        rows.append({
            "Results year": academic_year(r["year"]),
            "Activity": str(r["activity"]),
            "Tier": TIER_WORDS.get(r.get("tier"), "") if not is_missing(r.get("tier")) else "",
            "Aimed at": str(r["label"]),
            "Pupils (took part / compared with)": pupils,
            "Effect (95% interval)": interval(r) if shown else "",
            "What it means": " ".join([cap(effect_sentence(r, threshold)) + ".", *secondary_sentences(r, threshold)]),
        })
    return pd.DataFrame(rows)


def part_b_activities(activities: pd.DataFrame | None, *, year: int, key_stage: str, threshold: int,
                      table) -> list[str]:
    """The activities section of Part B of the strategy statement (Markdown lines).

    ``table`` makes a Markdown table from a header and rows (the statement's own,
    which escapes every cell). Rows of ``key_stage`` aimed at results up to
    ``year`` are reviewed, the latest first.
    """
    out = ["### Activities: what they achieved", ""]
    if activities is None:
        return out + ["_No activity register was given: with one (`gaptools run --activities`, or the `activities` "
                      "parameter of notebook 03), each activity is compared here with pupils like its participants "
                      "who did not take part._", ""]
    rows = activities[(activities["key_stage"] == key_stage) & (activities["year"] <= year)] \
        .sort_values(["year", "activity"], ascending=[False, True])
    if rows.empty:
        return out + [f"_The activity register has no activity aimed at {md_text(key_stage)} results up to "
                      f"{academic_year(year)}._", ""]
    out += ["Each activity's participants are compared with the school's own pupils of the same year who did not "
            "take part, allowing for what was known before it began: prior attainment, disadvantage, SEN and "
            "attendance (unless attendance is the outcome). An effect is *clear* only when its 95% interval "
            "excludes zero after allowing for the number of activities reviewed.", ""]
    shown = review_rows(rows, threshold)
    out.append(table(list(shown.columns), shown.astype(str).values.tolist()))
    return out + ["", CLOSING, ""]
