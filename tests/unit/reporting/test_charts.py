"""The public chart functions as an analyst uses them in their own notebook."""
import subprocess
import sys
import textwrap


def test_charts_leave_the_analysts_matplotlib_as_it_was():
    """Drawing a gaptools chart neither switches matplotlib's backend nor restyles the analyst's own
    plots (a fresh interpreter: in this one an earlier test may have imported the charts already)."""
    code = textwrap.dedent("""
        import matplotlib
        matplotlib.use("svg")   # stands in for the notebook's inline backend
        import matplotlib.pyplot as plt
        before = {k: repr(v) for k, v in matplotlib.rcParams.items()}
        import pandas as pd
        from gaptools.reporting import charts, trust_charts
        from gaptools.reporting.display import Chart
        gaps = pd.DataFrame({"key_stage": "KS4", "year": 2025, "measure": ["attainment8", "progress8"],
                             "label": ["Attainment 8", "Progress 8"], "unit": "points", "gap_unit": "points",
                             "kind": "score", "higher_is_better": True, "comparison": "in_school",
                             "subgroup": None, "n_disadvantaged": 30, "n_reference": 90,
                             "mean_disadvantaged": [38.0, -0.4], "mean_reference": [50.0, 0.1],
                             "gap": [12.0, 0.5], "ci_low": [8.0, 0.2], "ci_high": [16.0, 0.8],
                             "significant": True, "suppressed": False, "clear": True, "withheld_reason": None})
        fig = charts.gap_bars(gaps)
        png = Chart(fig).png
        after = {k: repr(v) for k, v in matplotlib.rcParams.items()}
        changed = sorted(k for k in before if before[k] != after[k])
        print(matplotlib.get_backend(), changed, png[:8] == b"\\x89PNG\\r\\n\\x1a\\n",
              fig.axes[0].get_facecolor() == matplotlib.colors.to_rgba("white"))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # the backend and every rcParam as before; the chart itself still in seaborn's whitegrid (white axes)
    assert out.stdout.split() == ["svg", "[]", "True", "True"], out.stdout


def test_text_from_data_is_never_mathtext():
    """A school called ``$\\notacommand$`` (or ``$x^2$``) is drawn as written in the funnel and the
    heatmap, whose labels come from data: matplotlib would otherwise parse it as mathtext and fail."""
    import pandas as pd

    from gaptools.reporting import trust_charts
    from gaptools.reporting.display import Chart

    names = [r"$\notacommand$ Academy", "Price $5 $x^2$ School", "Plain School"]
    table = pd.DataFrame({"school_name": names, "gap": [1.0, 2.5, -0.5], "n_disadvantaged": [20, 35, 12]})
    matrix = pd.DataFrame({"attainment8": [0.4, -0.1, 0.2]}, index=names)
    for fig in (trust_charts.funnel(table, sd=15.0), trust_charts.heatmap(matrix)):
        Chart(fig)  # printed without a mathtext error
        texts = [t for ax in fig.axes for t in ax.texts + ax.get_yticklabels()]
        shown = {t._preprocess_math(t.get_text()) for t in texts}  # what matplotlib will draw, and whether as math
        assert not any(math for _, math in shown)
        flat = " ".join(s for s, _ in shown).replace("\n", " ")
        for name in names:
            assert name in flat, (name, flat)
