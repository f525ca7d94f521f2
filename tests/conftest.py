import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SAMPLE = ROOT / "data" / "sample"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def sample_pupils():
    import gaptools

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gaptools.load_pupils(SAMPLE)
