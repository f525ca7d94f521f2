"""A finding that states a gap's size in words gives the interval of that size, whichever way the gap runs."""
import re

import pytest

from gaptools.analysis.findings import _gap_sentence


def _row(gap, low, high, **kw):
    return {"measure": "basics_4plus", "unit": "%", "kind": "rate", "label": "grade 4+ in English and maths",
            "higher_is_better": True, "gap": gap, "ci_low": low, "ci_high": high,
            "mean_disadvantaged": 0.5 - gap / 2, "mean_reference": 0.5 + gap / 2, **kw}


@pytest.mark.parametrize("gap, low, high", [(0.41, 0.26, 0.50), (-0.41, -0.50, -0.26)])
def test_ahead_and_behind_give_the_interval_of_the_size_said(gap, low, high):
    text = _gap_sentence(_row(gap, low, high), "other pupils in school")
    size, lo, hi = map(int, re.search(r"(\d+) percentage points \w+ \(95% interval (-?\d+) to (-?\d+)\)",
                                      text).groups())
    assert size == round(abs(gap) * 100)
    # the size said lies inside its interval, and the interval is the signed one reflected when the gap is negative
    assert (lo, hi) == ((round(low * 100), round(high * 100)) if gap > 0 else (round(-high * 100), round(-low * 100)))
    assert lo <= size <= hi
    assert ("fewer" in text) == (gap > 0) and ("more" in text) == (gap < 0)
