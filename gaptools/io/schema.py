"""The validated pupil table as a pandera schema (data contract §1).

The loader types every column first (see :mod:`gaptools.columns`); this schema
then checks ranges, allowed values, required cells and uniqueness in one lazy
pass so that every problem is reported together.

A :class:`pandera.DataFrameSchema` rather than a ``DataFrameModel``: building a
model's schema looks its annotations up among every dataframe library pandera
knows, and that imports ``dask.dataframe`` whenever Dask is installed (as it is
here, for ``--scheduler``), about a second in every process that validates.
"""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

Text = pd.StringDtype()
Int = pd.Int64Dtype()
Float = pd.Float64Dtype()
Bool = pd.BooleanDtype()


def column(dtype, *, required: bool = True, nullable: bool = True, coerce: bool = False, ge=None, le=None,
           isin=None, regex: bool = False) -> pa.Column:
    """A pandera column with the checks a field declaration names (``ge``, ``le``, ``isin``)."""
    checks = [c for c in (pa.Check.ge(ge) if ge is not None else None, pa.Check.le(le) if le is not None else None,
                          pa.Check.isin(isin) if isin is not None else None) if c is not None]
    return pa.Column(dtype, checks=checks, nullable=nullable, required=required, coerce=coerce, regex=regex)


#: One row per pupil per results year and key stage. The optional columns may be absent.
PUPIL_TABLE = pa.DataFrameSchema(
    {
        "school_id": column(Text, nullable=False),
        "school_name": column(Text, required=False),
        "year": column(Int, ge=1900, le=2100, nullable=False),
        "key_stage": column(Text, nullable=False),
        "pupil_id": column(Text, nullable=False),
        "disadvantaged": column(Bool, nullable=False),
        "sex": column(Text, isin=["F", "M"], required=False),
        "sen": column(Text, isin=["N", "K", "E"], required=False),
        "eal": column(Bool, required=False),
        "fsm": column(Bool, required=False),
        "ethnicity": column(Text, required=False),
        "forename": column(Text, required=False),
        "surname": column(Text, required=False),
        "prior_attainment": column(Float, ge=80, le=120, required=False),
        "attendance_pct": column(Float, ge=0, le=100, required=False),
        "suspensions": column(Int, ge=0, required=False),
        "attainment8": column(Float, ge=0, le=90, required=False),
        "progress8": column(Float, ge=-10, le=10, required=False),
        "reading_score": column(Int, ge=80, le=120, required=False),
        "maths_score": column(Int, ge=80, le=120, required=False),
        "gps_score": column(Int, ge=80, le=120, required=False),
        "writing_ta": column(Text, required=False),
        # whole grades (Int64), or Float64 where a double award ("5-4") reads as a half
        r"^grade_.+$": column(None, ge=0, le=9, required=False, regex=True),
        "year_group": column(Int, ge=1, le=13, required=False),
        "form": column(Text, required=False),
        "academic_year": column(Int, ge=1900, le=2100, required=False),
    },
    name="PupilTable", description="One row per pupil per results year and key stage.",
    strict=False, coerce=False, unique=["school_id", "year", "key_stage", "pupil_id"],
)
