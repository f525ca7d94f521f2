"""Tables for people, from the results model: ``gaptools.tables`` in an analyst's notebook.

Each function takes a DataFrame of :func:`gaptools.analyse` (or a results.json
read back) and returns a :class:`~gaptools.reporting.display.Table` that shows
in a notebook as the pages show it: values with their units, the 95% interval,
what each gap means and why a figure is withheld; ``.data`` is the DataFrame.
"""
from __future__ import annotations

import pandas as pd

from ..domain.suppression import DEFAULT_THRESHOLD
from .display import Table
from .school_rows import people_table


def gaps(table: pd.DataFrame, *, threshold: int = DEFAULT_THRESHOLD, year: int | None = None,
         comparison: str | None = "in_school", subgroups: bool | str = False) -> Table:
    """The gaps as a head teacher reads them.

    Parameters
    ----------
    table : DataFrame
        ``SchoolAnalysis.gaps`` (rows of the results model).
    threshold : int, default 6
        The threshold the analysis used (said in the withheld rows' reasons).
    year : int, optional
        One results year (default the latest in ``table``).
    comparison : str or None, default "in_school"
        ``in_school``, ``national_other``, ... or None for every comparison.
    subgroups : bool or str, default False
        False: the whole cohort only; True: every subgroup too; a split's name
        (``"eal"``): that split's rows only.

    Returns
    -------
    Table
    """
    rows = table
    if len(rows):
        rows = rows[rows["year"] == (rows["year"].max() if year is None else year)]
    if comparison is not None:
        rows = rows[rows["comparison"] == comparison]
    if subgroups is False:
        rows = rows[rows["subgroup"].isna()]
    elif isinstance(subgroups, str):
        rows = rows[rows["subgroup"].astype(str).str.startswith(f"{subgroups}=")]
    return Table(people_table(rows, threshold))
