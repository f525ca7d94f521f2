"""Who is who: ids that a person would take for the same school or pupil, said rather than guessed.

Nothing here changes the table; each finding is a warning (in the terminal and
the validated copy, never on a shared page):

- one school id with two names (``"900102 "`` and ``"900102"`` are one id once
  trimmed: the name read first is used);
- two school ids that look alike but differ (``900102`` and the full-width
  ``９００１０２``, or the same accented name in composed and decomposed form):
  they are read as two schools;
- one pupil id in two schools in the same results year and key stage: counted
  in both, and in value added twice.
"""
from __future__ import annotations

import unicodedata

import pandas as pd

#: At most this many examples are named in one warning.
SHOWN = 10


def identity_notes(typed: pd.DataFrame, raw: pd.DataFrame, file_col: str, line_col: str) -> list[str]:
    """The warnings of the module's note for a typed pupil table (``raw`` gives each row's file and line)."""
    return [*_two_names(typed), *_look_alike(typed), *_pupil_in_two_schools(typed, raw, file_col, line_col)]


def _two_names(typed: pd.DataFrame) -> list[str]:
    if "school_name" not in typed.columns:
        return []
    names = typed[["school_id", "school_name"]].dropna().astype(str)
    names = names[names["school_name"].str.strip() != ""].drop_duplicates()
    several = names.groupby("school_id")["school_name"].agg(list)
    several = several[several.map(len) > 1]
    return [f"school {sid} has {len(n)} names in the data ({', '.join(repr(x) for x in n[:3])}); the first "
            "is used on every page: give one school one name" for sid, n in several.head(SHOWN).items()]


def _look_alike(typed: pd.DataFrame) -> list[str]:
    ids = pd.Series(typed["school_id"].dropna().astype(str).unique())
    folded = ids.map(lambda s: unicodedata.normalize("NFKC", s).casefold().strip())
    out = []
    for _, group in ids.groupby(folded.to_numpy()):
        if len(group) > 1:
            shown = ", ".join(ascii(x) for x in group)
            out.append(f"school ids {shown} look alike but differ (full-width digits, accents written two "
                       "ways, or case): they are read as different schools; write them the same way")
    return out[:SHOWN]


def _pupil_in_two_schools(typed: pd.DataFrame, raw: pd.DataFrame, file_col: str, line_col: str) -> list[str]:
    keys = typed[["pupil_id", "year", "key_stage", "school_id"]].astype(str)
    schools = keys.groupby(["pupil_id", "year", "key_stage"])["school_id"].transform("nunique")
    shared = keys[schools.to_numpy() > 1]
    if shared.empty:
        return []
    examples = []
    for (pupil, year, stage), rows in list(shared.groupby(["pupil_id", "year", "key_stage"]))[:SHOWN]:
        where = ", ".join(f"school {keys.at[i, 'school_id']} ({raw.at[i, file_col]} line {raw.at[i, line_col]})"
                          for i in rows.index)
        examples.append(f"{pupil} in {stage} {year}: {where}")
    n = shared.groupby(["pupil_id", "year", "key_stage"]).ngroups
    more = f"; and {n - SHOWN} more" if n > SHOWN else ""
    return [f"{n} pupil id{'s are' if n != 1 else ' is'} in two schools in the same results year, so "
            f"counted in both (and twice in value added): {'; '.join(examples)}{more}. Check the ids"]
