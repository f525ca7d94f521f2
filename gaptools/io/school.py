"""The pupils one school's analysis needs: its own rows with the trust around them.

A school's figures compare it with its trust (value added against the trust's pupils, the gap
index's ranks in the trust), so :func:`gaptools.analyse` needs more than the school's rows. From
a run's table by school (:mod:`.byschool`, the folder ``gaptools run`` writes once a run) that is
the school's rows alone, with the trust's context in ``attrs``: what a school costs does not
grow with the trust. From any other data it is the whole table, as :func:`load_pupils` gives it.
Either way :func:`gaptools.analyse` gives the same figures.
"""
from __future__ import annotations

import pandas as pd

from .byschool import read_school
from .loading import load_pupils


def load_school(data, school_id, mapping=None) -> pd.DataFrame:
    """The pupil table a school's analysis needs: from a run's table by school, its rows alone.

    Parameters
    ----------
    data : path or DataFrame
        What :func:`gaptools.load_pupils` reads, or the table by school of a ``gaptools run``.
    school_id : str
    mapping : path, dict or Mapping, optional
        As for :func:`gaptools.load_pupils` (not needed for a run's table by school).

    Returns
    -------
    DataFrame
        The school's rows with ``attrs["gaptools_trust_context"]`` (a run's table by school), or the
        whole table (any other data: the trust is in it).

    Raises
    ------
    UnknownSchoolError
        A run's table by school without that school (the closest ids are named).
    DataValidationError
        As :func:`gaptools.load_pupils`.
    """
    if isinstance(data, pd.DataFrame):
        return data
    rows = read_school(data, str(school_id))
    return rows if rows is not None else load_pupils(data, mapping)
