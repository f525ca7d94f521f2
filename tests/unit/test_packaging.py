"""environment.yml (conda) and pyproject.toml (pip) must install the same packages."""
import re
import tomllib

import yaml
from conftest import ROOT


def _norm(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = dict(_norm(s) for s in project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = dict(_norm(s) for s in env["dependencies"] if isinstance(s, str))
    python = conda.pop("python")
    conda.pop("pip")
    assert conda == pip
    assert python == project["requires-python"]


def test_design_card_layout():
    for path in ("notebooks", "gaptools", "data/sample", "tests", "environment.yml", "README.md"):
        assert (ROOT / path).exists(), path
