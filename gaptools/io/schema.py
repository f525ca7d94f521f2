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

import pandera.pandas as pa

from ..domain.columns import COLUMNS, GRADE_PREFIX, GRADE_SPEC, ColumnSpec


def column(dtype, *, required: bool = True, nullable: bool = True, coerce: bool = False, ge=None, le=None,
           isin=None, regex: bool = False) -> pa.Column:
    """A pandera column with the checks a field declaration names (``ge``, ``le``, ``isin``)."""
    checks = [c for c in (pa.Check.ge(ge) if ge is not None else None, pa.Check.le(le) if le is not None else None,
                          pa.Check.isin(isin) if isin is not None else None) if c is not None]
    return pa.Column(dtype, checks=checks, nullable=nullable, required=required, coerce=coerce, regex=regex)


def spec_column(spec: ColumnSpec, *, regex: bool = False, dtype=...) -> pa.Column:
    """The pandera column a column spec declares: its dtype, range and allowed values, and whether it
    must be there and filled (a required column) or may be absent or blank."""
    return column(spec.dtype if dtype is ... else dtype, required=spec.required, nullable=not spec.required,
                  ge=spec.ge, le=spec.le, isin=list(spec.allowed) if spec.allowed else None, regex=regex)


#: One row per pupil per results year and key stage, made from the column specs (domain.columns): the
#: one declaration of each column's type, range and allowed values. The optional columns may be absent.
PUPIL_TABLE = pa.DataFrameSchema(
    {
        **{name: spec_column(spec) for name, spec in COLUMNS.items()},
        # whole grades (Int64), or Float64 where a double award ("5-4") reads as a half: either dtype
        rf"^{GRADE_PREFIX}.+$": spec_column(GRADE_SPEC, regex=True, dtype=None),
    },
    name="PupilTable", description="One row per pupil per results year and key stage.",
    strict=False, coerce=False, unique=["school_id", "year", "key_stage", "pupil_id"],
)
