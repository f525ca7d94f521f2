"""The pupil table's columns (data contract §1) and the parsers that type them.

Each parser takes a column as read (strings from CSV/Excel, or already typed
from Parquet or a DataFrame) and returns the typed column plus a mask of the
cells it could not read. Empty cells become missing values, never zero.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

YES_NO_HINT = ("is not a yes/no value (use true/false, yes/no, y/n or 1/0, "
               "or translate it under 'values:' in a mapping file)")
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t", "1.0"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f", "0.0"})

#: KS2 test outcome codes that stand where a scaled score would be. The pupil
#: has no score; ``counts_as_not_met`` says whether DfE headline measures count
#: the pupil in the denominator as not reaching the standard.
KS2_TEST_CODES: dict[str, tuple[str, bool]] = {
    "A": ("absent", True),
    "B": ("working below the standard of the test", True),
    "M": ("missing result", True),
    "T": ("unable to access the test", True),
    "U": ("maladministration", True),
    "Q": ("left, or result annulled", True),
    "J": ("just arrived from overseas", False),
    "F": ("will take the test in future", False),
    "P": ("took the test in the past", False),
}

#: KS2 writing teacher assessment codes (upper-case).
WRITING_TA_CODES = frozenset(
    {"GDS", "EXS", "WTS", "HNM", "BLW", "PKF", "PKE", "PKG",
     "PK1", "PK2", "PK3", "PK4", "PK5", "PK6", "A", "D", "L", "F", "P", "Q"}
)
WRITING_TA_MEETS = frozenset({"EXS", "GDS"})
#: Codes that take the pupil out of the writing measure altogether.
WRITING_TA_EXCLUDED = frozenset({"L", "F", "P"})

SEX_WORDS = {"f": "F", "m": "M", "female": "F", "male": "M", "girl": "F", "boy": "M"}
SEN_WORDS = {"n": "N", "k": "K", "e": "E"}


@dataclass(frozen=True)
class ColumnSpec:
    """What one canonical column holds and how to read it."""

    name: str
    kind: str  # text | int | float | bool | sex | sen | year | key_stage | ks2_score | writing_ta | grade
    required: bool = False
    ge: float | None = None
    le: float | None = None
    meaning: str = ""
    allowed: tuple[str, ...] = field(default=())

    @property
    def dtype(self) -> str:
        """The pandas dtype the loader gives the column (a grade column is ``Float64`` where a double
        award's half stands: :data:`GRADE_HALF_DTYPE`)."""
        return KIND_DTYPES[self.kind]

    @property
    def range_text(self) -> str:
        if self.ge is not None and self.le is not None:
            return f"must be between {self.ge:g} and {self.le:g}"
        if self.ge is not None:
            return f"must be {self.ge:g} or more"
        return f"must be {self.le:g} or less"


#: The pandas dtype of each kind of column once typed: the loader's, the schema's and the validated file's.
KIND_DTYPES = {"text": "string", "sex": "string", "sen": "string", "key_stage": "string", "writing_ta": "string",
               "int": "Int64", "year": "Int64", "ks2_score": "Int64", "grade": "Int64", "year_group": "Int64",
               "float": "Float64", "bool": "boolean"}
#: A grade column holding a double award's half ("5-4" reads as 4.5).
GRADE_HALF_DTYPE = "Float64"

_SPECS = [
    ColumnSpec("school_id", "text", required=True, meaning="URN or trust code"),
    ColumnSpec("school_name", "text"),
    ColumnSpec("year", "year", required=True, ge=1900, le=2100,
               meaning="the summer the results belong to (2025 = 2024/25)"),
    ColumnSpec("key_stage", "key_stage", required=True),
    ColumnSpec("pupil_id", "text", required=True),
    ColumnSpec("disadvantaged", "bool", required=True),
    ColumnSpec("sex", "sex", allowed=("F", "M")),
    ColumnSpec("sen", "sen", allowed=("N", "K", "E")),
    ColumnSpec("eal", "bool"),
    ColumnSpec("fsm", "bool"),
    ColumnSpec("ethnicity", "text"),
    ColumnSpec("forename", "text", meaning="shown only in the school's own pupil list"),
    ColumnSpec("surname", "text", meaning="shown only in the school's own pupil list"),
    ColumnSpec("prior_attainment", "float", ge=80, le=120),
    ColumnSpec("attendance_pct", "float", ge=0, le=100),
    ColumnSpec("suspensions", "int", ge=0),
    ColumnSpec("attainment8", "float", ge=0, le=90),
    ColumnSpec("progress8", "float", ge=-10, le=10),
    ColumnSpec("reading_score", "ks2_score", ge=80, le=120),
    ColumnSpec("maths_score", "ks2_score", ge=80, le=120),
    ColumnSpec("gps_score", "ks2_score", ge=80, le=120),
    ColumnSpec("writing_ta", "writing_ta"),
    ColumnSpec("year_group", "year_group", ge=1, le=13,
               meaning="the pupil's national curriculum year now (Year 10 = 10)"),
    ColumnSpec("form", "text", meaning="a registration or teaching group, as text (10E3)"),
    ColumnSpec("academic_year", "year", ge=1900, le=2100,
               meaning="the academic year the row's data is from, by its summer (2026 = 2025/26)"),
]
COLUMNS: dict[str, ColumnSpec] = {s.name: s for s in _SPECS}
GRADE_PREFIX = "grade_"
GRADE_SPEC = ColumnSpec("grade_<subject>", "grade", ge=0, le=9)
REQUIRED = tuple(s.name for s in _SPECS if s.required)
#: Pupils' names: only ever written to the school's own targeting outputs.
NAME_COLUMNS = ("forename", "surname")
#: Standard measures gaptools derives; never read from input.
DERIVED = ("basics_4plus", "basics_5plus", "rwm_expected", "rwm_higher",
           "persistent_absence", "severe_absence")
#: The value-added columns the analysis derives (``va_grade_english``): no input column or measure is named so.
VALUE_ADDED_PREFIX = "va_"


def spec_for(name: str) -> ColumnSpec | None:
    """The spec of canonical column ``name`` (grade columns share one)."""
    if name in COLUMNS:
        return COLUMNS[name]
    if name.startswith(GRADE_PREFIX) and len(name) > len(GRADE_PREFIX):
        return GRADE_SPEC
    return None


def canonical_name(header: str) -> str:
    """Normalise a header for matching: trim, lower-case, spaces and dashes to '_'."""
    name = header.replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", name)


# ---------------------------------------------------------------- parsers
# Each returns (typed series, bad mask, message for bad cells).

def _blank(s: pd.Series) -> pd.Series:
    """Missing or whitespace-only cells."""
    if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
        return s.isna() | (s.astype("string").str.strip() == "")
    return s.isna()


def _as_text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip()


def parse_text(s: pd.Series):
    out = _as_text(s)
    out = out.mask(out == "")
    return out, pd.Series(False, index=s.index), ""


def parse_bool(s: pd.Series):
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean"), pd.Series(False, index=s.index), ""
    if pd.api.types.is_numeric_dtype(s.dtype):
        out = pd.Series(pd.NA, index=s.index, dtype="boolean")
        out[s == 1] = True
        out[s == 0] = False
        bad = s.notna() & ~s.isin([0, 1])
        return out, bad, YES_NO_HINT
    low = _as_text(s).str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    is_true = low.isin(TRUE_WORDS).fillna(False).astype(bool)
    is_false = low.isin(FALSE_WORDS).fillna(False).astype(bool)
    out[is_true] = True
    out[is_false] = False
    bad = ~(is_true | is_false) & ~_blank(s)
    return out, bad, YES_NO_HINT


def _to_number(s: pd.Series, percent_ok: bool = False):
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return pd.to_numeric(s).astype("Float64"), pd.Series(False, index=s.index)
    text = _as_text(s)
    if percent_ok:
        text = text.str.replace(r"\s*%$", "", regex=True)
    num = pd.to_numeric(text.mask(text == ""), errors="coerce").astype("Float64")
    # 'inf' and 'nan' spelt out are not numbers a pupil can have
    num = num.mask(~np.isfinite(num.astype("float64").fillna(0)))
    bad = num.isna() & ~_blank(s)
    return num, bad


def parse_float(s: pd.Series, percent_ok: bool = False):
    num, bad = _to_number(s, percent_ok)
    return num, bad, "is not a number (leave the cell empty where there is no value)"


def parse_int(s: pd.Series):
    if pd.api.types.is_integer_dtype(s.dtype):  # already whole numbers: nothing to read
        return s.astype("Int64"), pd.Series(False, index=s.index), "is not a whole number"
    num, bad = _to_number(s)
    frac = num.notna() & (num != num.round())
    out = num.mask(frac).round().astype("Int64")
    return out, bad | frac.fillna(False).astype(bool), "is not a whole number"


#: A double award (combined science) written as its two grades: "5-4", "4-4", "U-U", "5/4".
DOUBLE_AWARD = r"^\s*([0-9]|U)\s*[-/]\s*([0-9]|U)\s*$"
#: A tracker's fine grade: a whole grade with a sign, "5+", "4-", "6=" (read as the whole grade).
FINE_GRADE = r"^\s*([0-9])\s*[+=-]\s*$"
GRADE_HINT = ("is not a GCSE grade (a whole number 0-9, U, a double award such as 5-4 whose grades are at "
              "most one apart, or a working-at grade such as 5+)")


def double_awards(s: pd.Series) -> pd.Series:
    """Which cells of a grade column hold a double award ("5-4"), as a boolean mask."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return pd.Series(False, index=s.index)
    return _as_text(s).str.upper().str.extract(DOUBLE_AWARD)[0].notna()


def fine_grades(s: pd.Series) -> pd.Series:
    """Which cells of a grade column hold a fine grade ("5+", "4-"), as a boolean mask."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return pd.Series(False, index=s.index)
    return _as_text(s).str.extract(FINE_GRADE)[0].notna()


def parse_grade(s: pd.Series):
    """GCSE grades 9-1 with U (ungraded) as 0, as the DfE counts it.

    A double award ("5-4", "U-U", "5/4": two grades at most one apart) reads
    as the mean of its two grades (4.5), as the DfE counts combined science; a
    column holding one is typed ``Float64``, any other ``Int64``. A tracker's
    fine grade ("5+", "5-", "5=") reads as its whole grade (5).
    """
    if pd.api.types.is_numeric_dtype(s.dtype):
        num, bad = _to_number(s)
        if not (num.notna() & (num != num.round())).any():
            return num.round().astype("Int64"), bad, GRADE_HINT
        not_half = num.notna() & ((num * 2) != (num * 2).round())  # a mean of two grades is a whole or a half
        return num.mask(not_half), bad | not_half.fillna(False).astype(bool), GRADE_HINT
    text = _as_text(s).str.upper()
    pair = text.str.extract(DOUBLE_AWARD).replace("U", "0")
    is_pair = pair[0].notna().to_numpy(dtype=bool)
    fine = text.str.extract(FINE_GRADE)[0]
    text = text.mask((text == "U").fillna(False).astype(bool), "0").mask(fine.notna(), fine)
    if not is_pair.any():
        out, bad, _ = parse_int(text)
        return out, bad, GRADE_HINT
    first = pd.to_numeric(pair[0], errors="coerce").to_numpy(dtype="float64")
    second = pd.to_numeric(pair[1], errors="coerce").to_numpy(dtype="float64")
    near = is_pair & (np.abs(first - second) <= 1)  # "9-1" is no double award: a typing error, said so
    num, bad = _to_number(text.mask(is_pair))
    frac = (num.notna() & (num != num.round())).fillna(False).to_numpy(dtype=bool)
    values = num.to_numpy(dtype="float64", na_value=np.nan)
    values = np.where(near, (first + second) / 2, np.where(frac, np.nan, values))
    bad = bad.to_numpy(dtype=bool) | frac | (is_pair & ~near)
    return pd.Series(values, index=s.index, dtype="Float64"), pd.Series(bad, index=s.index), GRADE_HINT


def parse_year_group(s: pd.Series):
    """A national curriculum year group 1-13, read from "Year 10", "Yr 10", "Y10" or "10"."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        out, bad, _ = parse_int(s)
        return out, bad, "is not a year group (write Year 10, Y10 or 10)"
    text = _as_text(s).str.replace(r"^(?:YEAR|YR|Y)\s*(?=\d)", "", case=False, regex=True)
    out, bad, _ = parse_int(text)
    return out, bad, "is not a year group (write Year 10, Y10 or 10)"


def parse_year(s: pd.Series):
    """A results year: 2025, or an academic year written 2024/25 or 2024-2025."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        out, bad, _ = parse_int(s)
        return out, bad, "is not a year"
    text = _as_text(s)
    academic = text.str.extract(r"^(\d{4})\s*[/\-]\s*(\d{2}|\d{4})$")
    start = pd.to_numeric(academic[0], errors="coerce")
    end = pd.to_numeric(academic[1], errors="coerce")
    end = end.where(end >= 100, (start // 100) * 100 + end)
    ok_academic = start.notna() & (end == start + 1)
    text = text.mask(ok_academic, end.astype("Int64").astype("string"))
    out, bad, _ = parse_int(text)
    return out, bad, "is not a year (write 2025, or 2024/25 for the academic year)"


def parse_key_stage(s: pd.Series):
    text = _as_text(s)
    norm = text.str.upper().str.replace(r"^(?:KEY\s*STAGE|KS)\s*(\d)$", r"KS\1", regex=True)
    norm = norm.mask(norm == "")
    return norm, pd.Series(False, index=s.index), ""


def _parse_words(s: pd.Series, words: dict[str, str], message: str):
    text = _as_text(s)
    out = text.str.lower().map(words, na_action="ignore").astype("string")
    bad = out.isna() & ~_blank(s)
    return out, bad, message


def parse_sex(s: pd.Series):
    return _parse_words(s, SEX_WORDS, "is not a sex code (use F or M)")


def parse_sen(s: pd.Series):
    return _parse_words(s, SEN_WORDS, "is not an SEN code (use N none, K SEN support, E EHC plan)")


def parse_ks2_score(s: pd.Series):
    """Scaled scores 80-120, or a DfE test code (A, B, ...) meaning no score.

    Returns the score column; the codes are returned by :func:`ks2_codes`.
    """
    if pd.api.types.is_numeric_dtype(s.dtype):
        out, bad, _ = parse_int(s)
        return out, bad, "is not a KS2 scaled score"
    codes = ks2_codes(s)
    out, bad, _ = parse_int(_as_text(s).mask(codes.notna()))
    codes_text = ", ".join(KS2_TEST_CODES)
    return out, bad, f"is not a KS2 scaled score (80-120) or test code ({codes_text})"


def ks2_codes(s: pd.Series) -> pd.Series:
    """The KS2 test codes found in a score column (missing where there is none)."""
    if pd.api.types.is_numeric_dtype(s.dtype):
        return pd.Series(pd.NA, index=s.index, dtype="string")
    text = _as_text(s).str.upper()
    return text.where(text.isin(list(KS2_TEST_CODES))).astype("string")


def parse_writing_ta(s: pd.Series):
    text = _as_text(s).str.upper().str.replace(" ", "", regex=False)
    text = text.mask(text == "")
    bad = text.notna() & ~text.isin(WRITING_TA_CODES)
    return text.mask(bad), bad.fillna(False).astype(bool), (
        "is not a KS2 writing teacher assessment (GDS, EXS, WTS, PK1-PK6, BLW, HNM, ...)")


PARSERS = {
    "text": parse_text,
    "bool": parse_bool,
    "float": parse_float,
    "int": parse_int,
    "grade": parse_grade,
    "year": parse_year,
    "key_stage": parse_key_stage,
    "sex": parse_sex,
    "sen": parse_sen,
    "ks2_score": parse_ks2_score,
    "writing_ta": parse_writing_ta,
    "year_group": parse_year_group,
}


#: Parsers worth running once per distinct value (few distinct values, costly string work).
_BY_UNIQUE = {"bool", "year", "key_stage", "sex", "sen", "grade", "writing_ta", "year_group"}


def _by_unique(parser, s: pd.Series):
    """Run ``parser`` on the distinct values of ``s`` only, then spread the result back.

    Exports repeat the same few values (KS4, F/M, Y/N) hundreds of thousands of
    times; parsing each distinct value once keeps loading near I/O speed.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    if len(uniques) * 4 > len(s):
        return parser(s)
    typed, bad, msg = parser(pd.Series(uniques, dtype=s.dtype if len(uniques) else object))
    take = np.where(codes < 0, len(uniques), codes)
    blank_typed = parser(pd.Series([None], dtype=object))[0].iloc[:1]
    typed_all = pd.concat([typed.reset_index(drop=True), blank_typed.reset_index(drop=True)],
                          ignore_index=True).astype(typed.dtype)
    out = typed_all.take(take)
    out.index = s.index
    bad_all = np.append(bad.to_numpy(dtype=bool), False)
    return out, pd.Series(bad_all[take], index=s.index), msg


def parse_column(spec: ColumnSpec, s: pd.Series):
    """Type one column by its spec: ``(typed, bad_mask, message)``."""
    if spec.name == "attendance_pct":
        return parse_float(s, percent_ok=True)
    if spec.kind in _BY_UNIQUE and not pd.api.types.is_numeric_dtype(s.dtype):
        # (typed numbers and yes/no columns are read vectorised already)
        return _by_unique(PARSERS[spec.kind], s)
    return PARSERS[spec.kind](s)
