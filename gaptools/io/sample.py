"""A synthetic trust (no real pupil) with planted stories, for demos and tests.

``generate_trust`` makes one row per pupil per year (data contract §1) for
secondary (KS4) and primary (KS2) schools. Outcomes are built from prior
attainment through the DfE Progress 8 estimates, plus a school effect, a
planted disadvantage effect and noise, so every later analysis has something
true to find; ``data/sample/README.md`` states what was planted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..domain.progress8 import p8_group
from ..domain.reference import p8_estimates
from ..domain.upn import check_letter

FIRST_YEAR = 2023
ETHNIC_GROUPS = ["White", "Asian", "Black", "Mixed", "Other"]
ETHNIC_WEIGHTS = [0.72, 0.11, 0.07, 0.06, 0.04]
SUBJECTS_EBACC = ["science", "history", "geography", "french"]
SUBJECTS_OPEN = ["art", "computing", "religious_studies"]


@dataclass(frozen=True)
class SchoolPlan:
    """How one synthetic school is made (effects in grades; per year where a tuple)."""

    school_id: str
    name: str
    key_stage: str
    cohort: int
    dis_share: float
    story: str
    english_effect: tuple[float, ...] = (-0.5, -0.5, -0.5)
    maths_effect: tuple[float, ...] = (-0.5, -0.5, -0.5)
    prior_shift: float = -0.45          # disadvantaged pupils' prior attainment, in SDs
    attendance_gap: float = 4.0         # percentage points
    sen_extra: float = 0.08             # extra chance of SEN support if disadvantaged
    school_effect: float = 0.0
    dis_counts: tuple[int, ...] | None = None  # exact disadvantaged counts by year
    notes: list[str] = field(default_factory=list)


PLANTED = [
    SchoolPlan("900101", "Northfield Academy", "KS4", 210, 0.35,
               "English gap about twice the maths gap",
               english_effect=(-0.8, -0.8, -0.8), maths_effect=(-0.2, -0.2, -0.2), prior_shift=-0.15,
               attendance_gap=2.0),
    SchoolPlan("900102", "Riverside School", "KS4", 190, 0.45,
               "gap closing over the three years",
               english_effect=(-1.3, -0.65, 0.0), maths_effect=(-1.3, -0.65, 0.0)),
    SchoolPlan("900103", "Hillcrest High School", "KS4", 180, 0.30,
               "gap widening over the three years",
               english_effect=(-0.1, -0.65, -1.2), maths_effect=(-0.1, -0.65, -1.2)),
    SchoolPlan("900104", "Saint Émile's Catholic College", "KS4", 150, 0.22,
               "no real gap: disadvantaged pupils do as well as others, in school and nationally",
               english_effect=(0.0, 0.0, 0.0), maths_effect=(0.0, 0.0, 0.0), prior_shift=0.0,
               attendance_gap=0.0, sen_extra=0.0, school_effect=0.7),
    SchoolPlan("900201", "Oakwood Primary School", "KS2", 90, 0.58,
               "a clear gap in reading and maths, wider in reading",
               english_effect=(-4.0, -4.0, -4.0), maths_effect=(-2.5, -2.5, -2.5)),
    SchoolPlan("900202", "Little Brook C of E Primary School", "KS2", 60, 0.08,
               "small school: fewer than 6 disadvantaged pupils in 2023 and 2024",
               dis_counts=(4, 5, 7), english_effect=(-2.0, -2.0, -2.0), maths_effect=(-2.0, -2.0, -2.0)),
]


def extra_school_id(i: int) -> str:
    """The id of unplanted school number ``i`` (7, 8, ...): unique, never a planted school's.

    Schools 7-100 keep the ids they always had (900007-900100); from there the
    count steps over the planted ids (900101-900104, 900201-900202), so school
    101 is 900105 and no unplanted school ever shares a story school's id.
    """
    number = 900000 + i
    for planted in sorted(int(p.school_id) for p in PLANTED):
        if planted <= number:
            number += 1
    return str(number)


def _extra_plan(i: int, rng: np.random.Generator) -> SchoolPlan:
    """A further, unplanted school for larger synthetic trusts."""
    ks = "KS4" if rng.random() < 0.6 else "KS2"
    eff = float(rng.normal(-0.5, 0.3)) * (1 if ks == "KS4" else 4)
    return SchoolPlan(extra_school_id(i), f"Synthetic School {i}", ks,
                      int(rng.integers(60, 251)), float(rng.uniform(0.1, 0.6)), "unplanted",
                      english_effect=(eff,) * 3, maths_effect=(eff,) * 3,
                      school_effect=float(rng.normal(0, 0.25)))


def _upns(rng, n: int, estab: int, year: int) -> list[str]:
    serials = rng.choice(1000, size=n, replace=False)
    out = []
    for s in serials:
        body = f"999{estab:04d}{(year - 7) % 100:02d}{s:03d}"
        out.append(check_letter("X" + body) + body)
    return out


def _prior_from_z(z: np.ndarray) -> np.ndarray:
    """KS2 average scaled score on its half-point grid."""
    return np.clip(np.round((104.5 + 6.5 * z) * 2) / 2, 80, 120)


def _pupils(plan: SchoolPlan, year_i: int, year: int, rng: np.random.Generator) -> pd.DataFrame:
    n = plan.cohort + int(rng.integers(-8, 9))
    n_dis = plan.dis_counts[year_i] if plan.dis_counts else int(round(n * plan.dis_share))
    dis = np.zeros(n, dtype=bool)
    dis[rng.choice(n, size=n_dis, replace=False)] = True
    z = rng.normal(0, 1, n) + plan.prior_shift * dis
    sen_p = 0.11 + plan.sen_extra * dis
    u = rng.random(n)
    sen = np.where(u < 0.025 + 0.02 * dis * (plan.sen_extra > 0), "E", np.where(u < sen_p + 0.025, "K", "N"))
    z = z - 0.6 * (sen != "N")
    attendance = 100 - rng.gamma(1.6, 3.6, n) - plan.attendance_gap * dis * rng.uniform(0.5, 1.5, n)
    attendance = np.clip(np.round(attendance, 1), 35, 100)
    frame = pd.DataFrame({
        "school_id": plan.school_id,
        "school_name": plan.name,
        "year": year,
        "key_stage": plan.key_stage,
        "pupil_id": _upns(rng, n, int(plan.school_id[-4:]), year),
        "disadvantaged": dis,
        "sex": rng.choice(["F", "M"], size=n),
        "sen": sen,
        "eal": rng.random(n) < 0.14,
        "fsm": dis & (rng.random(n) < 0.7),
        "ethnicity": rng.choice(ETHNIC_GROUPS, size=n, p=ETHNIC_WEIGHTS),
        "attendance_pct": attendance,
        "suspensions": rng.poisson(0.08 + 0.25 * dis * (plan.sen_extra > 0)),
    })
    att_effect = (attendance - 94) * 0.03  # missing school costs grades
    eng_eff = plan.english_effect[year_i] * dis
    mat_eff = plan.maths_effect[year_i] * dis
    if plan.key_stage == "KS4":
        _ks4_outcomes(frame, z, plan, eng_eff, mat_eff, att_effect, year, rng)
    else:
        _ks2_outcomes(frame, z, plan, eng_eff, mat_eff, att_effect, rng)
    return frame


def _ks4_outcomes(frame, z, plan, eng_eff, mat_eff, att_effect, year, rng):
    n = len(frame)
    prior = _prior_from_z(z)
    _, est = p8_estimates(2024)
    grp = p8_group(prior, est).astype(int) - 1
    exp_eng = est["english"].to_numpy()[grp] / 2
    exp_mat = est["maths"].to_numpy()[grp] / 2
    exp_other = est["ebacc"].to_numpy()[grp] / 3
    base = plan.school_effect + att_effect + rng.normal(0, 0.45, n)  # shared pupil effect

    def grade(expected, effect, sd=0.9):
        return np.clip(np.round(expected + base + effect + rng.normal(0, sd, n)), 0, 9).astype(int)

    dis = frame["disadvantaged"].to_numpy()
    g = {"english": grade(exp_eng, eng_eff), "maths": grade(exp_mat, mat_eff)}
    general = (eng_eff + mat_eff) / 2
    for subject in SUBJECTS_EBACC + SUBJECTS_OPEN:
        g[subject] = grade(exp_other, general, 1.1)
    history = rng.random(n) < 0.5
    g["history"] = np.where(history, g["history"], -1)
    g["geography"] = np.where(~history, g["geography"], -1)
    g["french"] = np.where(rng.random(n) < 0.45 - 0.15 * dis, g["french"], -1)
    g["art"] = np.where(rng.random(n) < 0.4, g["art"], -1)
    # Attainment 8: English and maths double, three EBacc slots (combined science
    # fills two), three open slots from what is left.
    ebacc_pool = np.stack([g["science"], g["science"], np.maximum(g["history"], g["geography"]), g["french"]], 1)
    ebacc_sorted = -np.sort(-ebacc_pool, axis=1)
    ebacc_used = ebacc_sorted[:, :3]
    leftover = ebacc_sorted[:, 3:]
    open_pool = np.concatenate([leftover, np.stack([g[s] for s in SUBJECTS_OPEN], 1)], 1)
    open_used = -np.sort(-open_pool, axis=1)[:, :3]
    a8 = 2 * g["english"] + 2 * g["maths"] + np.clip(ebacc_used, 0, None).sum(1) + np.clip(open_used, 0, None).sum(1)
    missing_prior = rng.random(n) < 0.03
    if year in (2025, 2026):  # no KS2 tests in 2020 and 2021: no prior attainment to report
        missing_prior[:] = True
    frame["prior_attainment"] = np.where(missing_prior, np.nan, prior)
    frame["attainment8"] = a8.astype(float)
    for subject, grades in g.items():
        frame[f"grade_{subject}"] = pd.array(np.where(grades < 0, pd.NA, grades), dtype="Int64")


def _ks2_outcomes(frame, z, plan, read_eff, maths_eff, att_effect, rng):
    n = len(frame)
    base = plan.school_effect * 4 + att_effect * 4 + rng.normal(0, 2.0, n)

    def score(effect, sd=4.5):
        raw = 104 + 6.0 * z + base + effect + rng.normal(0, sd, n)
        return raw

    reading, maths, gps = score(read_eff), score(maths_eff), score((read_eff + maths_eff) / 2)
    codes = {}
    for name, raw in (("reading_score", reading), ("maths_score", maths), ("gps_score", gps)):
        col = np.clip(np.round(raw), 80, 120).astype(int).astype(object)
        below = raw < 79  # working below the standard of the test
        absent = rng.random(n) < 0.015
        col[below] = "B"
        col[absent] = "A"
        codes[name] = col
        frame[name] = col
    writing_latent = 104 + 6.0 * z + base + read_eff + rng.normal(0, 4.5, n)
    frame["writing_ta"] = np.select(
        [writing_latent >= 111, writing_latent >= 99, writing_latent >= 88],
        ["GDS", "EXS", "WTS"], default="PK6")


def generate_trust(*, schools: int = 6, years: int = 3, seed: int = 2025) -> pd.DataFrame:
    """Generate a synthetic trust.

    Parameters
    ----------
    schools : int, default 6
        How many schools; the first six are the planted ones, any more are
        unplanted schools of random size and intake.
    years : int, default 3
        Results years, starting with summer 2023.
    seed : int, default 2025
        Random seed; the same arguments always give the same table.

    Returns
    -------
    DataFrame
        One row per pupil per year, in data-contract column names.
    """
    rng = np.random.default_rng(seed)
    plans = PLANTED[:schools] + [_extra_plan(i, rng) for i in range(len(PLANTED) + 1, schools + 1)]
    frames = []
    for plan in plans:
        for year_i in range(years):
            if len(plan.english_effect) <= year_i:
                plan = SchoolPlan(**{**plan.__dict__,
                                     "english_effect": plan.english_effect + plan.english_effect[-1:] * years,
                                     "maths_effect": plan.maths_effect + plan.maths_effect[-1:] * years,
                                     "dis_counts": None if plan.dis_counts is None
                                     else plan.dis_counts + plan.dis_counts[-1:] * years})
            frames.append(_pupils(plan, year_i, FIRST_YEAR + year_i, rng))
    return pd.concat(frames, ignore_index=True)


COLUMN_ORDER = ["school_id", "school_name", "year", "key_stage", "pupil_id", "disadvantaged", "sex",
                "sen", "eal", "fsm", "ethnicity", "prior_attainment", "attendance_pct", "suspensions",
                "attainment8"]


def write_trust(trust: pd.DataFrame, out: str | Path) -> list[Path]:
    """Write one CSV per school (UTF-8, LF) plus README.md; return the files written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for school_id, school in trust.groupby("school_id", sort=True):
        school = school.dropna(axis=1, how="all")
        cols = [c for c in COLUMN_ORDER if c in school.columns]
        cols += sorted(c for c in school.columns if c.startswith("grade_"))
        cols += [c for c in ("reading_score", "maths_score", "gps_score", "writing_ta") if c in school.columns]
        path = out / f"{school_id}.csv"
        school[cols].to_csv(path, index=False, lineterminator="\n", float_format="%.1f")
        written.append(path)
    readme = out / "README.md"
    readme.write_text(story_markdown(trust), encoding="utf-8")
    return written + [readme]


def story_markdown(trust: pd.DataFrame) -> str:
    """The planted stories and the cohort sizes actually generated."""
    lines = [
        "# The sample trust (synthetic: no real pupil)",
        "",
        "Made by `gaptools sample` (seed 2025, 6 schools, 3 years: summers 2023-2025).",
        "Regenerating with the same arguments gives these files byte for byte; a test checks it.",
        "Pupil ids are UPN-shaped with correct check letters, in the fictional LA 999.",
        "",
        "Outcomes are built from prior attainment (through the DfE 2023/24 Progress 8",
        "estimates), a school effect, attendance, noise and a planted disadvantage",
        "effect. Disadvantaged pupils also have lower prior attainment, lower attendance",
        "and more SEN, except where a story says otherwise. KS4 pupils of 2025 have no",
        "prior attainment (no KS2 tests in 2020), so no Progress 8 that year, as in reality.",
        "Some KS2 test results are codes: `A` absent, `B` working below the test.",
        "",
        "## Planted stories",
        "",
        "| school_id | school | key stage | story | disadvantaged effect (English/reading; maths), per year |",
        "|---|---|---|---|---|",
    ]
    unit = {"KS4": "grades", "KS2": "scaled-score points"}
    for p in PLANTED:
        if p.school_id not in set(trust["school_id"]):
            continue
        eff = "; ".join(f"{y}: {e:+.2f}, {m:+.2f}" for y, e, m in
                        zip(range(FIRST_YEAR, FIRST_YEAR + 3), p.english_effect, p.maths_effect))
        lines.append(f"| {p.school_id} | {p.name} | {p.key_stage} | {p.story} | {eff} ({unit[p.key_stage]}) |")
    lines += ["", "Effects are in progress terms: after allowing for prior attainment.", "",
              "## Cohorts generated", "", "| school_id | year | pupils | disadvantaged |", "|---|---|---|---|"]
    counts = trust.groupby(["school_id", "year"])["disadvantaged"].agg(["size", "sum"])
    for (sid, year), row in counts.iterrows():
        lines.append(f"| {sid} | {year} | {row['size']} | {row['sum']} |")
    lines += ["", "## Raw gaps in the generated data", "",
              "Mean of other pupils minus mean of disadvantaged pupils, straight from the files (no "
              "intervals: the reports add those, and withhold groups under 6).", "",
              "| school_id | year | Attainment 8 | English grade | maths grade | KS2 reading | KS2 maths |",
              "|---|---|---|---|---|---|---|"]
    cols = ["attainment8", "grade_english", "grade_maths", "reading_score", "maths_score"]
    numeric = trust[["school_id", "year", "disadvantaged"]].copy()
    for c in cols:
        numeric[c] = pd.to_numeric(trust[c], errors="coerce") if c in trust else np.nan
    means = numeric.groupby(["school_id", "year", "disadvantaged"])[cols].mean()
    for (sid, year), _ in counts.iterrows():
        if (sid, year, True) not in means.index or (sid, year, False) not in means.index:
            continue
        if counts.loc[(sid, year), "sum"] < 6:  # synthetic, but the same rule as the reports
            lines.append(f"| {sid} | {year} | " + " | ".join(["withheld"] * len(cols)) + " |")
            continue
        gap = means.loc[(sid, year, False)] - means.loc[(sid, year, True)]
        cells = ["" if pd.isna(gap[c]) else f"{gap[c]:.1f}" for c in cols]
        lines.append(f"| {sid} | {year} | " + " | ".join(cells) + " |")
    lines.append("")
    return "\n".join(lines)
