import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SAMPLE = ROOT / "data" / "sample"
SHARED = ROOT.parent / "shared"
PUBLISHED = ROOT / "data" / "dfe" / "ks2_school_level"


@pytest.fixture(scope="session")
def sample_pupils():
    import gaptools

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(SAMPLE)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """One `gaptools run` of the sample trust (real kernels, local pool), shared by the
    batch, notebook, browser and PDF tests: with PDFs, and the published benchmarks page
    of the real DfE KS2 files, none of whose schools is in the sample trust."""
    from gaptools.batch import run

    out = tmp_path_factory.mktemp("run") / "reports"
    manifest = run(SAMPLE, out, quiet=True, pdf=True, published=[PUBLISHED])
    return out, manifest


@pytest.fixture(scope="session", autouse=True)
def shipped_reference_only(tmp_path_factory):
    """Every test (and every kernel it starts) sees the shipped national figures only,
    never figures the person running the suite imported into their own reference folder."""
    import os

    before = os.environ.get("GAPTOOLS_REFERENCE_DIR")
    os.environ["GAPTOOLS_REFERENCE_DIR"] = str(tmp_path_factory.mktemp("no-user-reference"))
    yield
    if before is None:
        os.environ.pop("GAPTOOLS_REFERENCE_DIR", None)
    else:
        os.environ["GAPTOOLS_REFERENCE_DIR"] = before
