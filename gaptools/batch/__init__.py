"""``gaptools run``: the batch runner (kernels, school jobs, the index page)."""
import sys

# nbformat validates notebooks with jsonschema, which (when the optional rfc3987-syntax is installed,
# as JupyterLab's dependencies do) compiles a full RFC 3987 grammar at import, 2-5 s of CPU, only to
# check "iri" formats that no notebook schema uses. The runner does without that check.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)
from .runner import run, run_cli
from .school import SchoolJob, SchoolOutcome, run_school, safe_folder_names

__all__ = ["SchoolJob", "SchoolOutcome", "run", "run_cli", "run_school", "safe_folder_names"]
