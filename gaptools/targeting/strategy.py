"""A draft Pupil Premium strategy statement in the shape of the DfE template.

Built from the school's priorities: numbered challenges, intended outcomes with
measurable success criteria taken from the data, activity for each tier citing
the evidence table, and a review of the previous year where there is one. It is
a draft for the school to edit, and it says so.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from ..analysis.gaps import SPLITS, gap_table
from ..analysis.trends import gap_trends, with_verdicts
from ..domain.formatting import academic_year, cap, is_missing, md_text, row_trend_text, withheld_text
from ..domain.registry import headline
from ..domain.suppression import DEFAULT_THRESHOLD, group_sizes_withheld
from .evidence import TIERS, describe, foundations
from .priorities import cohort, format_gap
from .priorities import priorities as make_priorities
from .review import part_b_activities

#: Share of a gap the draft proposes to close over the strategy's three years.
NARROW_BY = 1 / 3


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    # strategy.md may be rendered as HTML: no tag, link or image from data gets through a cell
    lines += ["| " + " | ".join(md_text(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _target(row) -> float:
    return row["gap"] * (1 - NARROW_BY)


def strategy_statement(pupils: pd.DataFrame, school_id: str, *, year: int | None = None,
                       key_stage: str | None = None, threshold: int = DEFAULT_THRESHOLD,
                       priorities: pd.DataFrame | None = None, gaps: pd.DataFrame | None = None,
                       today: date | None = None, activities: pd.DataFrame | None = None) -> str:
    """Draft the school's Pupil Premium strategy statement (Markdown).

    Parameters
    ----------
    pupils : DataFrame
        From :func:`gaptools.load_pupils`.
    school_id : str
    year, key_stage : optional
        The results the draft starts from (default: the school's latest).
    threshold : int, default 6
    priorities, gaps : DataFrame, optional
        Already computed :func:`gaptools.priorities` and ``gap_table(detail=True)``.
    today : date, optional
        The date printed on the draft (for reproducible output).
    activities : DataFrame, optional
        :func:`gaptools.activity_impact` of the school's activity register: Part B then
        reviews each activity against comparable pupils who did not take part.

    Returns
    -------
    str
        Markdown following the DfE template's sections.
    """
    key_stage, year = cohort(pupils, school_id, year, key_stage)
    if gaps is None:
        gaps = gap_table(pupils, school_id=str(school_id), key_stage=key_stage, threshold=threshold,
                         subgroups=SPLITS, detail=True)
    if "trend" not in gaps.columns and "se" in gaps.columns:
        gaps = with_verdicts(gaps, gap_trends(gaps))  # each gap with the results model's trend verdict
    if priorities is None:
        priorities = make_priorities(pupils, school_id, year=year, key_stage=key_stage,
                                     threshold=threshold, gaps=gaps)
    rows = pupils[(pupils["school_id"] == str(school_id)) & (pupils["key_stage"] == key_stage)
                  & (pupils["year"] == year)]
    name = str(rows["school_name"].iloc[0]) if len(rows) else str(school_id)
    n, n_dis = len(rows), int(rows["disadvantaged"].astype(bool).sum())
    share = f"withheld (fewer than {threshold} pupils)" if group_sizes_withheld(n_dis, n, threshold) \
        else f"{n_dis / n:.0%} ({n_dis} of {n} pupils in {key_stage} {year})" if n else "no pupils"
    start = year + 1
    today = today or date.today()
    out = [
        f"# Pupil Premium strategy statement: {md_text(name)}",
        "",
        f"> **Draft for the school to edit.** Produced by gaptools on {today:%d %B %Y} from the "
        f"{md_text(key_stage)} results of {academic_year(year)}. Every challenge and target below comes from "
        "the school's own data with its uncertainty; check them, add what the data cannot show "
        "(pupil voice, staff knowledge, costs) and check the evidence figures against the live EEF "
        "Teaching and Learning Toolkit before publishing. Schools with more than 5 eligible pupils must publish one.",
        "",
        "## School overview",
        "",
        _md_table(["Detail", "Data"], [
            ["School name", name],
            ["Number of pupils in the cohort analysed", f"{n} ({key_stage}, {year})"],
            ["Proportion of disadvantaged pupils", share],
            ["Academic years that this statement covers", f"{academic_year(start)} to {academic_year(start + 2)}"],
            ["Date this statement was published", "[to complete]"],
            ["Date on which it will be reviewed", "[to complete]"],
            ["Statement authorised by", "[to complete]"],
            ["Pupil premium lead", "[to complete]"],
            ["Governor / trustee lead", "[to complete]"],
        ]),
        "",
        "## Funding overview",
        "",
        _md_table(["Detail", "Amount"], [["Pupil premium funding allocation this academic year", "[to complete]"],
                                         ["Recovery premium or other funding carried forward", "[to complete]"],
                                         ["Total budget for this academic year", "[to complete]"]]),
        "",
        "## Statement of intent",
        "",
    ]
    if len(priorities):
        areas = ", ".join(priorities["area"].head(3))
        out.append(f"Our aim is that disadvantaged pupils make the same progress and reach the same outcomes as "
                   f"their peers. Our own data shows where that is not yet so: the clearest gaps are in {areas}. "
                   "In line with the EEF's tiered approach, high-quality teaching for every pupil comes first, "
                   "then targeted academic support for the pupils who need it most, then wider strategies "
                   "(attendance, behaviour, wellbeing). We will focus on the specific needs below rather than "
                   "generic interventions, and judge success by the measurable outcomes we have set.")
    elif 0 < n_dis < threshold:
        out.append(f"The school has fewer than {threshold} disadvantaged pupils in this cohort: group figures "
                   "are withheld so that no pupil can be identified, and no gap can be measured reliably. "
                   "Plan from each pupil's individual needs, and use high-quality teaching for all as the base.")
    elif n and not ((gaps["year"] == year) & (gaps["key_stage"] == key_stage)
                    & (gaps["comparison"] == "in_school")).any():
        out.append(f"The data has no outcome measure for {md_text(key_stage)} {year}, so no gap can be measured: "
                   "add the results columns (see the data contract) to measure one. Meanwhile plan from each "
                   "pupil's needs, with high-quality teaching for all as the base.")
    elif n and n_dis in (0, n):
        if n_dis:
            out.append(f"Every pupil in this cohort is disadvantaged ({md_text(key_stage)} {year}), so there is no "
                       "comparison group in school and no in-school gap can be measured. Compare disadvantaged "
                       "pupils' results with national other pupils' where a national figure is on file (see the "
                       "gap analysis report), and plan from each pupil's needs, with high-quality teaching for "
                       "all as the base.")
        else:
            out.append(f"No pupil in this cohort is disadvantaged ({md_text(key_stage)} {year}): with no comparison "
                       "group, the data can show no clear gap, nor the absence of one. Plan for any disadvantaged "
                       "pupils who join from their individual needs.")
    else:
        out.append("The school's data shows no clear gap between disadvantaged pupils and their peers in "
                   f"{year} once uncertainty is allowed for. Keep the focus on high-quality teaching for every "
                   "pupil, watch the measures that matter each year, and use the pupil list to support "
                   "individual disadvantaged pupils with specific needs.")
    out += ["", "## Challenges", "",
            "This details the key challenges to achievement that we have identified among our disadvantaged "
            "pupils.", ""]
    challenge_rows = []
    for _, p in priorities.iterrows():
        detail = f"{p['area'].capitalize()}: {p['evidence']}."
        if not is_missing(p["concentrated_in"]) and p["concentrated_in"]:  # a missing one is NaN in a frame
            detail += f" The gap is concentrated in {p['concentrated_in']}."
        if not is_missing(p["trend"]) and p["trend"]:
            detail += f" Trend: {p['trend']}."
        challenge_rows.append([str(p["rank"]), detail])
    out.append(_md_table(["Challenge number", "Detail of challenge"], challenge_rows) if challenge_rows
               else "_No challenge is supported by clear evidence in the data; add any identified from "
                    "pupil-level knowledge._")
    out += ["", "## Intended outcomes", "",
            f"Targets propose to narrow each gap by about a third by {start + 2}; the school should set its own.", ""]
    now = gaps[(gaps["year"] == year) & (gaps["comparison"] == "in_school") & gaps["subgroup"].isna()
               & ~gaps["suppressed"]].set_index("measure", drop=False)
    outcome_rows = []
    for _, p in priorities.iterrows():
        for m in p["measures"][:2]:
            if m not in now.index:
                continue
            r = now.loc[m]
            outcome_rows.append([
                f"Narrow the gap in {r['label']} (challenge {p['rank']})",
                f"The gap between disadvantaged and other pupils falls from {format_gap(r, r['gap'])} in {year} "
                f"to {format_gap(r, _target(r))} or less by {start + 2}, judged with its 95% interval.",
            ])
    out.append(_md_table(["Intended outcome", "Success criteria"], outcome_rows) if outcome_rows
               else "_No measurable outcome follows from the data alone: set outcomes for individual pupils._")
    out += ["", "## Activity in this academic year", "",
            "Budgeted costs are for the school to complete. Evidence: EEF Teaching and Learning Toolkit "
            "(months of additional progress, cost, strength of evidence) as shipped with gaptools; check the live "
            "toolkit.", ""]
    base = foundations(phase="primary" if key_stage == "KS2" else "secondary") if len(priorities) else None
    for tier, title in TIERS.items():
        acts: dict[str, dict] = {}
        if tier == "teaching" and base is not None:  # the whole-school foundations serve every challenge
            for _, a in base.iterrows():
                acts[a["strand"]] = {"row": a, "challenges": [str(r) for r in priorities["rank"]]}
        for _, p in priorities.iterrows():
            for _, a in p["approaches"].iterrows():
                if a["tier"] != tier:
                    continue
                entry = acts.setdefault(a["strand"], {"row": a, "challenges": []})
                entry["challenges"].append(str(p["rank"]))
        out += [f"### {title}", "", "Budgeted cost: [to complete]", ""]
        if acts:
            out.append(_md_table(["Activity", "Evidence that supports this approach", "Challenge number(s) addressed"],
                                 [[k, f"EEF toolkit: {describe(v['row'])} ({v['row']['as_of']})",
                                   ", ".join(dict.fromkeys(v["challenges"]))] for k, v in acts.items()]))
        else:
            out.append("_No activity in this tier follows from the data; add the school's own._")
        out.append("")
    out += ["## Part B: Review of outcomes in the previous academic year", "",
            "### Pupil premium strategy outcomes", ""]
    prev = gaps[(gaps["year"] == year - 1) & (gaps["comparison"] == "in_school") & gaps["subgroup"].isna()]
    if prev.empty:
        out.append("_No previous year in the data: nothing to review yet._")
    else:
        review = []
        measures = [m for p in priorities["measures"] for m in p] if len(priorities) else []
        measures = list(dict.fromkeys(measures + [m for m in headline("review") if m in now.index]))
        p_idx = prev.set_index("measure", drop=False)
        for m in measures:
            if m not in p_idx.index or m not in now.index:
                continue
            a, b = p_idx.loc[m], now.loc[m]
            if a["suppressed"] or b["suppressed"]:
                def shown(r):
                    if r["suppressed"]:
                        return withheld_text(r.get("withheld_reason"), threshold)
                    return (f"{format_gap(r, r['gap'])} ({format_gap(r, r['ci_low'], False)} to "
                            f"{format_gap(r, r['ci_high'], False)})")
                review.append([cap(a["label"]), shown(a), shown(b), "",
                               "" if b["suppressed"] else row_trend_text(b) or "no verdict"])
                continue
            review.append([cap(b["label"]),
                           f"{format_gap(a, a['gap'])} "
                           f"({format_gap(a, a['ci_low'], False)} to {format_gap(a, a['ci_high'], False)})",
                           f"{format_gap(b, b['gap'])} "
                           f"({format_gap(b, b['ci_low'], False)} to {format_gap(b, b['ci_high'], False)})",
                           # as printed: 53 against 53 is the same, whatever the third decimal says
                           "the same" if format_gap(a, a["gap"]) == format_gap(b, b["gap"])
                           else "smaller" if b["gap"] < a["gap"] else "larger",
                           row_trend_text(b) or "no verdict"])
        if not review:
            out.append(f"_Figures withheld: groups of fewer than {threshold} pupils are not shown._")
            out.append("")
            out += part_b_activities(activities, year=year, key_stage=key_stage, threshold=threshold, table=_md_table)
            return "\n".join(out)
        out.append(_md_table(["Measure", f"Gap in {year - 1} (95% interval)", f"Gap in {year} (95% interval)",
                              "Change in the point estimate", "Trend (clear changes only)"], review))
        out.append("")
        out.append("A difference in the point estimates is not by itself a change: the trend column gives the "
                   "verdict of the gap analysis report, which calls a gap closing or widening only when the "
                   "change is clear.")
    out.append("")
    out += part_b_activities(activities, year=year, key_stage=key_stage, threshold=threshold, table=_md_table)
    return "\n".join(out)
