"""A synthetic year of data drops for the sample trust (``data/sample_year/assessments.csv``).

The sample trust's schools (same ids, same fictional LA 999 UPNs, for the
pupils whose results will belong to summer 2026), assessed three times in
2025/26: working-at GCSE grades (1 decimal) in English and maths at the
secondary schools, predicted scaled scores in reading and maths at the
primaries, each subject taught in groups. No real pupil.

Planted: at Hillcrest High School (900103) the disadvantaged pupils of English
group 11E5 fall 0.8 SD behind their classmates by the third drop; everywhere
else each group's gap stays as it was in September (plus noise).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..domain.upn import check_letter

#: (school id, year group, pupils, share disadvantaged, subjects, groups per subject, scale)
SCHOOLS = (("900101", 11, 212, 0.35, ("English", "Maths"), 7, "grade"),
           ("900102", 11, 186, 0.45, ("English", "Maths"), 6, "grade"),
           ("900103", 11, 184, 0.30, ("English", "Maths"), 6, "grade"),
           ("900104", 11, 148, 0.22, ("English", "Maths"), 5, "grade"),
           ("900201", 6, 90, 0.58, ("Reading", "Maths"), 3, "scaled"),
           ("900202", 6, 60, 0.12, ("Reading", "Maths"), 2, "scaled"))
DROPS = (("Autumn 2", "2025-12-05"), ("Spring 2", "2026-03-20"), ("Summer 1", "2026-05-15"))
PLANTED = ("900103", "English", "11E5", 0.8)  # school, subject, group, SD fallen behind by the last drop
RESULTS_YEAR = 2026


def _upns(rng, n: int, estab: int) -> list[str]:
    out = []
    for s in rng.choice(1000, size=n, replace=False):
        body = f"999{estab:04d}{(RESULTS_YEAR - 7) % 100:02d}{s:03d}"
        out.append(check_letter("X" + body) + body)
    return out


def generate_assessments(*, seed: int = 2029) -> pd.DataFrame:
    """The sample trust's data drops for 2025/26 (see the module's docstring for what is planted)."""
    rng = np.random.default_rng(seed)
    frames = []
    for school, yg, n, share, subjects, n_groups, scale in SCHOOLS:
        ids = _upns(rng, n, int(school[-4:]))
        dis = rng.random(n) < share
        ability = rng.normal(0, 1, n) - 0.5 * dis
        for subject in subjects:
            # setted by ability in secondary (group 1 the top set), mixed classes in primary
            noisy = ability + rng.normal(0, 0.5, n)
            rank = np.argsort(np.argsort(-noisy)) if scale == "grade" else rng.permutation(n)
            group_no = 1 + rank * n_groups // n
            prefix = f"{yg}{subject[0]}" if scale == "grade" else f"{yg}"
            groups = np.array([f"{prefix}{g}" if scale == "grade" else f"{prefix}{'ABCDEFG'[g - 1]}"
                               for g in group_no])
            base = 0.9 * ability + rng.normal(0, 0.3, n)
            for k, (drop, date) in enumerate(DROPS):
                z = base + rng.normal(0, 0.3, n) + 0.15 * k
                p_school, p_subject, p_group, fall = PLANTED
                z = z - fall * (k / (len(DROPS) - 1)) * ((school == p_school) & (subject == p_subject)
                                                          & (groups == p_group) & dis)
                score = (np.clip(np.round(4.6 + 1.6 * z, 1), 1, 9) if scale == "grade"
                         else np.clip(np.round(103 + 7 * z), 80, 120))
                present = rng.random(n) > 0.03  # a few pupils absent at each drop
                frames.append(pd.DataFrame({
                    "school_id": school, "pupil_id": np.array(ids)[present], "year_group": yg,
                    "subject": subject, "drop": drop, "drop_date": date, "score": score[present],
                    "disadvantaged": dis[present], "teaching_group": groups[present]}))
    out = pd.concat(frames, ignore_index=True)
    out["score"] = [f"{v:g}" for v in out["score"]]
    return out


def write_assessments(frame: pd.DataFrame, out) -> Path:
    """Write the sample's ``assessments.csv`` into the folder ``out``."""
    from .files import atomic_write_text

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out / "assessments.csv", frame.to_csv(index=False, lineterminator="\n"))
