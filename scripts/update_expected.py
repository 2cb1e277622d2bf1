#!/usr/bin/env python
"""Write (or check) each example's expected summary: ``examples/NAME/expected.json``.

Each example's scenario is run with its own seed and a few replications (REPLICATIONS); the
summary holds, per threat, how many replications detected, killed and leaked it and the shots
fired at it, with the fractions P(detected), P(kill), P(leak). The same scenario and seed give the
same numbers on any machine and backend, so tests/test_examples_expected.py compares a fresh run
with the stored file exactly.

When the model changes on purpose (physics, catalog, engine), regenerate every file with one
command and commit the diff with the change that caused it:

    python scripts/update_expected.py            # rewrite examples/*/expected.json
    python scripts/update_expected.py --check    # exit 1 if any example differs
    python scripts/update_expected.py saturation-raid   # only the named examples
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
REPLICATIONS = 32
FORMAT = 1


def example_dirs(names: list[str] | None = None) -> list[Path]:
    """The example folders (those holding a scenario.yaml), optionally only the named ones."""
    dirs = sorted(p.parent for p in EXAMPLES.glob("*/scenario.yaml"))
    if names:
        unknown = set(names) - {d.name for d in dirs}
        if unknown:
            raise SystemExit(f"no such example: {', '.join(sorted(unknown))}")
        dirs = [d for d in dirs if d.name in names]
    return dirs


def summarise(example: Path, replications: int = REPLICATIONS) -> dict:
    """Run ``example/scenario.yaml`` (its own seed, ``replications`` replications) and return its
    expected-summary dict. Counts are integers and fractions are count / replications, so equal
    runs give equal numbers bit for bit."""
    import iadsim

    ld = iadsim.load_scenario(example / "scenario.yaml")
    res = iadsim.simulate(ld, replications=replications)
    df = res.replications
    n = int(df.replication.nunique())
    threats = {}
    for name, g in df.groupby("threat", sort=True):
        detected = int(g.detected_at_s.notna().sum())
        killed = int(g.killed.sum())
        leaked = int(g.leaked.sum())
        shots = int(g.shots.sum())
        threats[str(name)] = {
            "detected": detected, "killed": killed, "leaked": leaked, "shots": shots,
            "p_detected": detected / n, "p_kill": killed / n, "p_leak": leaked / n,
            "mean_shots": shots / n,
        }
    return {
        "format": FORMAT,
        "example": example.name,
        "command": "python scripts/update_expected.py",
        "replications": n,
        "seed": int(res.summary["seed"]),
        "fidelity": res.summary["fidelity"],
        "policy": res.summary["policy"],
        "threats": threats,
    }


def dumps(summary: dict) -> str:
    return json.dumps(summary, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="examples to do (default: all)")
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 on a difference")
    args = ap.parse_args(argv)
    bad = 0
    for d in example_dirs(args.names):
        text = dumps(summarise(d))
        path = d / "expected.json"
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        if args.check:
            ok = old == text
            bad += not ok
            print(f"{'ok  ' if ok else 'DIFF'} {path.relative_to(REPO)}")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"{'unchanged' if old == text else 'wrote'} {path.relative_to(REPO)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
