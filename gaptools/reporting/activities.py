"""The review of last year's activities on the school's page (notebook 03)."""
from __future__ import annotations

import warnings

import pandas as pd

from ..domain.formatting import academic_year, md_text
from ..errors import GaptoolsWarning
from ..targeting.review import CLOSING, review_rows
from .display import Section, Table, markdown


def school_activities(pupils: pd.DataFrame, register, mapping, school_id: str,
                      threshold: int) -> tuple[pd.DataFrame, list[str]]:
    """One school's rows of :func:`gaptools.activity_impact`, and the register's warnings about them.

    ``register`` is a path, or a table from :func:`gaptools.load_activities`; only
    this school's rows are checked and estimated (a run checks the whole register first).
    """
    from ..analysis.activities import activity_impact
    from ..io.activities import FILE, check_register, load_activities

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GaptoolsWarning)
        if not (isinstance(register, pd.DataFrame) and FILE in register.columns):
            register = load_activities(register, mapping)
        mine = register[register["school_id"] == str(school_id)].reset_index(drop=True)
        notes = check_register(mine, pupils) if len(mine) else []
        impact = activity_impact(pupils, mine, school_id=school_id, threshold=threshold)
    return impact, notes


def review_section(impact: pd.DataFrame | None, notes: list[str], key_stage: str, year: int,
                   threshold: int) -> Section:
    """The activities aimed at this key stage's results up to ``year``: each estimate in words, then the caveats."""
    if impact is None:
        return Section([markdown("_No activity register given (the `activities` parameter): nothing to review. "
                                 "List which pupils took part in which activity, and the outcome it aimed at "
                                 "(see the data contract), to compare them with pupils like them who did not._")])
    rows = impact[(impact["key_stage"] == key_stage) & (impact["year"] <= year)] \
        .sort_values(["year", "activity"], ascending=[False, True])
    if rows.empty:
        return Section([markdown(f"_The activity register has no activity aimed at {md_text(key_stage)} results "
                                 f"up to {academic_year(year)}._")])
    out = Section([Table(review_rows(rows, threshold))])
    # (the register's warnings name only counts and line numbers: no pupil)
    out += [markdown("**About the register:** " + md_text(n)) for n in notes]
    out.append(markdown(CLOSING))
    return out
