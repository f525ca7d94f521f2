"""The validated pupil table as a pandera schema (data contract §1).

The loader types every column first (see :mod:`gaptools.columns`); this schema
then checks ranges, allowed values, required cells and uniqueness in one lazy
pass so that every problem is reported together.
"""
from __future__ import annotations

from typing import Optional

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

Text = pd.StringDtype
Int = pd.Int64Dtype
Float = pd.Float64Dtype
Bool = pd.BooleanDtype


class PupilTable(pa.DataFrameModel):
    """One row per pupil per results year and key stage."""

    school_id: Series[Text] = pa.Field(nullable=False)
    school_name: Optional[Series[Text]] = pa.Field(nullable=True)
    year: Series[Int] = pa.Field(ge=1900, le=2100, nullable=False)
    key_stage: Series[Text] = pa.Field(nullable=False)
    pupil_id: Series[Text] = pa.Field(nullable=False)
    disadvantaged: Series[Bool] = pa.Field(nullable=False)
    sex: Optional[Series[Text]] = pa.Field(isin=["F", "M"], nullable=True)
    sen: Optional[Series[Text]] = pa.Field(isin=["N", "K", "E"], nullable=True)
    eal: Optional[Series[Bool]] = pa.Field(nullable=True)
    fsm: Optional[Series[Bool]] = pa.Field(nullable=True)
    ethnicity: Optional[Series[Text]] = pa.Field(nullable=True)
    forename: Optional[Series[Text]] = pa.Field(nullable=True)
    surname: Optional[Series[Text]] = pa.Field(nullable=True)
    prior_attainment: Optional[Series[Float]] = pa.Field(ge=80, le=120, nullable=True)
    attendance_pct: Optional[Series[Float]] = pa.Field(ge=0, le=100, nullable=True)
    suspensions: Optional[Series[Int]] = pa.Field(ge=0, nullable=True)
    attainment8: Optional[Series[Float]] = pa.Field(ge=0, le=90, nullable=True)
    progress8: Optional[Series[Float]] = pa.Field(ge=-10, le=10, nullable=True)
    reading_score: Optional[Series[Int]] = pa.Field(ge=80, le=120, nullable=True)
    maths_score: Optional[Series[Int]] = pa.Field(ge=80, le=120, nullable=True)
    gps_score: Optional[Series[Int]] = pa.Field(ge=80, le=120, nullable=True)
    writing_ta: Optional[Series[Text]] = pa.Field(nullable=True)
    grade: Optional[Series[Int]] = pa.Field(ge=0, le=9, nullable=True, alias=r"^grade_.+$", regex=True)

    class Config:
        strict = False
        coerce = False
        unique = ["school_id", "year", "key_stage", "pupil_id"]
