"""What every school's figures share with the trust, worked out once a run: the trust's context of each row.

Value added compares each pupil with the trust's pupils of the same prior attainment, and the gap
index ranks each pupil among the trust's; both are the same whichever school is analysed. The batch
runner works them out here once for the whole trust and saves them beside each school's rows
(:func:`gaptools.io.byschool.save_by_school`); a school's notebooks then read their own rows alone
(:mod:`gaptools.analysis.trustcontext` uses the context).
"""
from __future__ import annotations

import pandas as pd

from .gapindex import first_scored_years, index_ranks
from .progress import value_added
from .trustcontext import RANK, key_columns, row_keys


def trust_context(pupils: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The trust's context of every row of ``pupils`` (the whole trust, from :func:`gaptools.load_pupils`).

    Returns
    -------
    (DataFrame, dict)
        Aligned with ``pupils`` by position: ``va_<measure>`` (:func:`gaptools.value_added`), ``index_rank``
        (the gap index's percentile rank, NaN where the pupil has no score) and ``key``
        (:func:`gaptools.analysis.trustcontext.row_keys`); and what the context says of the trust:
        the ``columns`` a key covers and ``first_scored`` (how many schools have their first
        gap-index score in each year, which tells a trust of one school from a trust).
    """
    plain = pupils.copy(deep=False)
    plain.attrs = {}  # the whole trust: no context of its own
    out = value_added(plain).reset_index(drop=True)
    out[RANK] = index_ranks(plain)[0]
    columns = key_columns(plain)
    out["key"] = row_keys(plain, columns)
    return out, {"columns": columns, "first_scored": first_scored_years(plain)}
