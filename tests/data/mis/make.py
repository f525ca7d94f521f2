"""Write the small MIS-like export sets under tests/data/mis (run from the repository root).

Two layouts as schools get them from their MIS, never edited for gaptools:
- ``sims/``: one KS4 results export per summer, the year only in the file name,
  a "Year" column holding the year group ("Year 11"), English Language and
  English Literature in two columns, Combined Science as "5-4", a totals row;
  and one tracker of Year 10 and Year 11 with forms and working-at grades.
- ``arbor/``: other headers ("Year Group" as "Y11", "Registration Form"),
  files named by academic year ("2023-24"), Combined Science as "5/4", the
  tracker an Excel workbook.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan",
            "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes", "Green", "Hall", "Wood", "Clarke"]
FORENAMES = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Leo", "Ivy", "Arthur",
             "Freya", "Muhammad", "Lily", "Harry", "Zara", "Jack", "Ruby", "Oscar", "Ella", "Theo"]


def _grade(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), 0, 9).astype(int)


def _g(v: int) -> str:
    return "U" if v == 0 else str(v)


def cohort(rng, n: int, start: int, year_group: int) -> pd.DataFrame:
    """``n`` pupils: disadvantaged, prior attainment and grades with a gap, some missing Literature."""
    pp = rng.random(n) < 0.35
    ks2r = np.clip(np.round(rng.normal(104 - 4 * pp, 5)), 80, 120).astype(int)
    ks2m = np.clip(np.round(rng.normal(104 - 4 * pp, 5)), 80, 120).astype(int)
    base = 4.6 - 1.1 * pp + (ks2r + ks2m - 208) / 10
    lang = _grade(base + rng.normal(0, 1.2, n))
    lit = _grade(base + rng.normal(0, 1.2, n))
    maths = _grade(base + rng.normal(0, 1.2, n))
    sci1 = _grade(base + rng.normal(0, 1.0, n))
    sci2 = np.clip(sci1 - (rng.random(n) < 0.5), 0, 9)
    att = np.clip(np.round(rng.normal(94 - 4 * pp, 4), 1), 40, 100)
    upn = [f"T{start + i:011d}" for i in range(n)]  # pseudonyms, not real UPNs
    return pd.DataFrame({
        "upn": upn, "surname": [SURNAMES[(start + i) % 20] for i in range(n)],
        "forename": [FORENAMES[(start * 7 + i) % 20] for i in range(n)],
        "year_group": year_group, "form": [f"{year_group}{'ABC'[i % 3]}" for i in range(n)],
        "sex": np.where(rng.random(n) < 0.5, "F", "M"), "pp": pp,
        "sen": rng.choice(["N", "K", "E"], n, p=[0.8, 0.15, 0.05]), "eal": rng.random(n) < 0.2,
        "ks2r": ks2r, "ks2m": ks2m, "lang": lang, "lit": lit, "maths": maths,
        "sci": [f"{max(a, b)}-{min(a, b)}" if max(a, b) else "U-U" for a, b in zip(sci1, sci2)],
        "sci_mean": (sci1 + sci2) / 2, "a8": np.round(np.clip(base * 8.5 + rng.normal(0, 4, n), 0, 90), 1),
        "att": att, "no_lit": rng.random(n) < 0.08,
    })


def sims(rng) -> None:
    out = HERE / "sims"
    out.mkdir(exist_ok=True)
    for k, year in enumerate((2023, 2024, 2025)):
        c = cohort(rng, 36, 1000 * (k + 1), 11)
        t = pd.DataFrame({
            "UPN": c["upn"], "Legal Surname": c["surname"], "Legal Forename": c["forename"],
            "Year": "Year 11", "Reg Group": [f"11{f[-1]}" for f in c["form"]], "Gender": c["sex"],
            "Pupil Premium": np.where(c["pp"], "Yes", "No"), "SEN Status": c["sen"],
            "EAL": np.where(c["eal"], "Y", "N"), "KS2 Reading SS": c["ks2r"], "KS2 Maths SS": c["ks2m"],
            "English Language": [_g(v) for v in c["lang"]],
            "English Literature": ["" if no else _g(v) for v, no in zip(c["lit"], c["no_lit"])],
            "Mathematics": [_g(v) for v in c["maths"]], "Combined Science": c["sci"],
            "Attainment 8": c["a8"], "Attendance %": c["att"],
        })
        total = {col: "" for col in t.columns}
        total.update({"UPN": "Total", "Attainment 8": round(float(c["a8"].mean()), 1)})
        t = pd.concat([t, pd.DataFrame([total])], ignore_index=True)
        t.to_csv(out / f"KS4 Results {year}.csv", index=False)
    y11, y10 = cohort(rng, 30, 5000, 11), cohort(rng, 30, 6000, 10)
    c = pd.concat([y11, y10], ignore_index=True)
    pd.DataFrame({
        "UPN": c["upn"], "Legal Surname": c["surname"], "Legal Forename": c["forename"],
        "Year": [f"Year {g}" for g in c["year_group"]], "Reg Group": [f"{g}E{1 + i % 3}" for i, g in
                                                                      enumerate(c["year_group"])],
        "Pupil Premium": np.where(c["pp"], "Yes", "No"), "SEN Status": c["sen"], "EAL": np.where(c["eal"], "Y", "N"),
        "KS2 Reading SS": c["ks2r"], "KS2 Maths SS": c["ks2m"],
        "English Language WAG": [_g(v) for v in c["lang"]], "English Literature WAG": [_g(v) for v in c["lit"]],
        "Maths WAG": [_g(v) for v in c["maths"]], "Combined Science WAG": c["sci"], "Attendance %": c["att"],
    }).to_csv(out / "Tracker Y10-Y11.csv", index=False)


def arbor(rng) -> None:
    out = HERE / "arbor"
    out.mkdir(exist_ok=True)
    sen = {"N": "No SEN", "K": "SEN Support", "E": "EHC Plan"}
    for k, (start, end) in enumerate(((2022, 23), (2023, 24))):
        c = cohort(rng, 32, 7000 + 1000 * k, 11)
        t = pd.DataFrame({
            "Student UPN": c["upn"], "Last name": c["surname"], "First name": c["forename"],
            "Year Group": "Y11", "Registration Form": [f"11-{f[-1]}" for f in c["form"]],
            "Pupil Premium Indicator": np.where(c["pp"], "TRUE", "FALSE"),
            "SEN Need": [sen[s] for s in c["sen"]], "EAL": np.where(c["eal"], "Yes", "No"),
            "KS2 Reading Scaled Score": c["ks2r"], "KS2 Maths Scaled Score": c["ks2m"],
            "GCSE English Language": [_g(v) for v in c["lang"]],
            "GCSE English Literature": ["" if no else _g(v) for v, no in zip(c["lit"], c["no_lit"])],
            "GCSE Mathematics": [_g(v) for v in c["maths"]],
            "GCSE Combined Science": [s.replace("-", "/") for s in c["sci"]],
            "Attendance": [f"{a:.1f}%" for a in c["att"]],
        })
        t.to_csv(out / f"Arbor KS4 results {start}-{end}.csv", index=False)
    y11, y10 = cohort(rng, 24, 9000, 11), cohort(rng, 24, 9500, 10)
    c = pd.concat([y11, y10], ignore_index=True)
    pd.DataFrame({
        "Student UPN": c["upn"], "Last name": c["surname"], "First name": c["forename"],
        "Year Group": [f"Y{g}" for g in c["year_group"]],
        "Registration Form": [f"{g}-{'Oak Ash Elm'.split()[i % 3]}" for i, g in enumerate(c["year_group"])],
        "Pupil Premium Indicator": np.where(c["pp"], "TRUE", "FALSE"), "SEN Need": [sen[s] for s in c["sen"]],
        "GCSE English Language Working At": [_g(v) for v in c["lang"]],
        "GCSE English Literature Working At": [_g(v) for v in c["lit"]],
        "GCSE Mathematics Working At": [_g(v) for v in c["maths"]], "Attendance": c["att"],
    }).to_excel(out / "Arbor tracker.xlsx", index=False)


if __name__ == "__main__":
    rng = np.random.default_rng(26)
    sims(rng)
    arbor(rng)
