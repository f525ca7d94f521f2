"""The cohort-profile sections of a school report (notebook 01): who the disadvantaged pupils are."""
from __future__ import annotations

import pandas as pd

from ..analysis.cohort import distinctive
from ..domain.formatting import academic_year, cap, count, md_text
from . import tables
from .display import WITHHELD, Section, markdown
from .school_data import SchoolData
from .school_rows import profile_cells


class ProfileSections(SchoolData):
    """Who the cohort is: a table, chart or paragraph per method, one per cohort."""

    def headline(self):
        """Who this report is about, in one paragraph."""
        def one(c):
            n, d = self.cohort_size(c)
            # the cohort size is public: the group sizes are shown only where the profile shows them
            p = self.profile_data(c)
            withheld = bool(p[p["characteristic"] == "all"]["suppressed"].any())
            share = (f"of whom fewer than {self.threshold} are disadvantaged (figures withheld)"
                     if withheld and d < self.threshold
                     else f"of whom fewer than {self.threshold} are not disadvantaged (figures withheld)" if withheld
                     else "every pupil is disadvantaged, so there is no comparison group in school" if d == n
                     else "no disadvantaged pupils, so there is no gap to measure" if d == 0
                     else f"{d} disadvantaged pupils ({d / n:.0%} of the cohort)")
            return markdown(f"**{md_text(self.school_name)}** ({md_text(self.school_id)}), {md_text(c.key_stage)} "
                            f"results of {academic_year(c.year)}: {count(n, 'pupil')}, {share}. Groups of fewer than "
                            f"{self.threshold} pupils are withheld.")
        return self._each(one)

    def distinctive(self, limit: int = 5):
        """What sets this school's disadvantaged pupils apart from its other pupils."""
        def one(c):
            if not (self.profile_data(c)["characteristic"] != "all").any():
                return markdown("_The data has no pupil characteristics (sex, SEN, EAL, prior attainment, "
                                "attendance) to compare._")
            top = distinctive(self.profile_data(c), limit)
            if top is None:
                if self._no_comparison_group(c):
                    return markdown("_Every pupil in this cohort is disadvantaged, or none is: there is no "
                                    "comparison group in school to set them beside._")
                return markdown(f"_Too few pupils in one group to compare (groups under {self.threshold} "
                                "are withheld)._")
            if top.empty:
                return markdown("Disadvantaged pupils here look much like their classmates on sex, SEN, EAL, "
                                "prior attainment and attendance.")
            lines = []
            for (char, value), r in top.iterrows():
                what = value if not char.startswith("overlap") else char.split(": ", 1)[1]
                lines.append(f"- **{md_text(what)}**: {r['disadvantaged']:.0%} of disadvantaged pupils against "
                             f"{r['other']:.0%} of other pupils")
            return markdown("\n".join(lines))
        return self._each(one)

    def profile_table(self, characteristics=None):
        """Counts and shares by characteristic, disadvantaged beside others (:func:`gaptools.tables.profile`)."""
        return tables.profile(self.profile, self.cohorts, characteristics)

    def current_profile(self):
        """The pupils on roll now (``current``), one table per cohort: counts and shares by characteristic."""
        if self.current is None:
            return markdown("_To profile the pupils on roll now, pass their table as `current` "
                            "(`--current` to `gaptools run`)._")
        from ..analysis.profile import cohort_profile

        # no gap table of the pupils on roll is shown: nothing beside this profile gives counts away
        p = cohort_profile(self.current, school_id=self.school_id, threshold=self.threshold, gaps=False)
        if p.empty:
            return markdown("_The table of current pupils has no pupil of this school._")
        out = Section()
        for (ks, year), rows in p.groupby(["key_stage", "year"], sort=True):
            out.append(markdown(f"#### {md_text(ks)}, results in {academic_year(int(year))}"))
            out.append(profile_cells(rows))
        return out

    def profile_chart(self, characteristic: str, title: str | None = None):
        """Shares of disadvantaged and other pupils by one characteristic (:func:`gaptools.charts.profile_chart`)."""
        from .cohort_charts import profile_chart

        return profile_chart(self.profile, characteristic, self.cohorts, title=title)

    def overlaps(self):
        """Disadvantaged pupils who also face a second or third barrier."""
        def one(c):
            p = self.profile_data(c)
            p = p[p["characteristic"].str.startswith("overlap") & (p["value"] == "yes")]
            if p.empty:
                return markdown("_Overlaps need SEN, attendance and prior attainment columns._")
            rows = []
            for name, s in p.groupby("characteristic", sort=False):
                cells = {g: (WITHHELD if r["suppressed"] else f"{int(r['n'])} ({r['pct']:.0%})")
                         for g, r in s.set_index("group").iterrows()}
                rows.append({"Overlap": cap(name.split(": ", 1)[1]),
                             "Disadvantaged pupils": cells.get("disadvantaged", "0"),
                             "Other pupils": cells.get("other", "0")})
            return pd.DataFrame(rows)
        return self._each(one)
