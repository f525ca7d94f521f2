"""Are two runs' results the same? The identity check for changes that must not change a figure.

Run a trust once before a change and once after, then compare every school's
``results.json`` between the two output folders::

    python benchmarks/compare_results.py run DATA OUT       # gaptools.batch.run(DATA, OUT, quiet=True)
    python benchmarks/compare_results.py compare BEFORE AFTER

``compare`` prints each difference (school, JSON path, before, after) and exits
1 if there is any (a school missing on either side counts), 0 if every
school's results are identical. ``results.json`` holds no timestamp, run id or
path (data contract §3), so nothing is ignored: the documents are compared
field by field after parsing, and their bytes as well. ``--side-outputs`` also
compares each school's ``targets.csv`` and ``strategy.md`` byte for byte, except
the date the draft strategy says it was produced on (a run on another day).

Baselines made before issue 15's changes (commit 7c379f5) are kept in
``/work/baseline/sample`` (``data/sample``) and ``/work/baseline/generated``
(``gaptools sample --out /work/baseline/gen-data --schools 12 --years 3 --seed 7``).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

#: Fields of results.json that may differ between two runs of the same data. None today: the
#: document has no timestamp, run id or output path. Add a top-level key here only if one appears.
IGNORED: frozenset[str] = frozenset()


def run_trust(data: Path, out: Path) -> dict:
    """Run every school of ``data`` into ``out`` with the batch runner; fail loudly if any school fails."""
    from gaptools.batch import run

    manifest = run(data, out, quiet=True)
    bad = {sid: s.get("error") for sid, s in manifest["schools"].items() if s["status"] != "ok"}
    if bad or manifest["trust"]["status"] != "ok":
        raise SystemExit(f"run failed: schools {bad}, trust overview {manifest['trust']['status']}")
    return manifest


def results_files(out: Path) -> dict[str, Path]:
    """Every school's ``results.json`` in a run's output folder, keyed by the school folder's name."""
    return {p.parent.name: p for p in sorted(out.glob("*/results.json"))}


def differences(before, after, path: str = "") -> list[tuple[str, object, object]]:
    """Every place two parsed JSON documents differ, as (JSON path, before, after)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            if not path and key in IGNORED:
                continue
            where = f"{path}.{key}" if path else str(key)
            if key not in before or key not in after:
                found.append((where, before.get(key, "<missing>"), after.get(key, "<missing>")))
            else:
                found.extend(differences(before[key], after[key], where))
        return found
    if isinstance(before, list) and isinstance(after, list):
        found = [d for i, (b, a) in enumerate(zip(before, after)) for d in differences(b, a, f"{path}[{i}]")]
        if len(before) != len(after):
            found.append((f"{path} (length)", len(before), len(after)))
        return found
    # bool is an int in Python: 1 == True must still count as a difference in JSON
    if type(before) is not type(after) or before != after:
        return [(path, before, after)]
    return []


#: Other side outputs of a school, compared byte for byte with ``--side-outputs``.
SIDE_OUTPUTS = ("targets.csv", "strategy.md")
#: The one part of a side output that differs between runs on different days.
_RUN_DATE = re.compile(rb"Produced by gaptools on \d{1,2} [A-Z][a-z]+ \d{4}")


def _side_output(path: Path) -> bytes | None:
    return _RUN_DATE.sub(b"Produced by gaptools on <date>", path.read_bytes()) if path.is_file() else None


def compare(before: Path, after: Path, *, side_outputs: bool = False) -> int:
    """Print every difference between two runs' results; return the number of differences."""
    old, new = results_files(before), results_files(after)
    if not old:
        print(f"no */results.json in {before}")
        return 1
    n = 0
    for school in sorted(set(old) | set(new)):
        if school not in new or school not in old:
            print(f"{school}: results.json only in {before if school in old else after}")
            n += 1
            continue
        a, b = old[school].read_bytes(), new[school].read_bytes()
        found = differences(json.loads(a), json.loads(b))
        for where, x, y in found:
            print(f"{school}: {where}: {x!r} -> {y!r}")
        if not found and a != b and not IGNORED:
            print(f"{school}: same content, different bytes (formatting or key order)")
            n += 1
        n += len(found)
        for name in SIDE_OUTPUTS if side_outputs else ():
            if _side_output(old[school].with_name(name)) != _side_output(new[school].with_name(name)):
                print(f"{school}: {name} differs (or is only on one side)")
                n += 1
    print(f"{len(old)} schools before, {len(new)} after: "
          + ("identical" if n == 0 else f"{n} difference{'s' * (n != 1)}"))
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a trust into an output folder")
    r.add_argument("data", type=Path)
    r.add_argument("out", type=Path)
    c = sub.add_parser("compare", help="compare every school's results.json of two output folders")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("--side-outputs", action="store_true", help="also compare targets.csv and strategy.md")
    args = ap.parse_args(argv)
    if args.command == "run":
        manifest = run_trust(args.data, args.out)
        print(f"{len(manifest['schools'])} schools ok in {manifest['duration_s']:.0f} s -> {args.out}")
        return 0
    return 1 if compare(args.before, args.after, side_outputs=args.side_outputs) else 0


if __name__ == "__main__":
    sys.exit(main())
