"""Every example runs and gives exactly its stored expected summary (same scenario and seed,
same numbers). When the model changes on purpose, regenerate with one command:

    python scripts/update_expected.py
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from conftest import REPO

_spec = importlib.util.spec_from_file_location("update_expected",
                                               REPO / "scripts" / "update_expected.py")
update_expected = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(update_expected)

EXAMPLES = update_expected.example_dirs()


def test_every_example_has_an_expected_summary():
    assert len(EXAMPLES) >= 5
    missing = [d.name for d in EXAMPLES if not (d / "expected.json").is_file()]
    assert not missing, f"no expected.json for {missing}: run python scripts/update_expected.py"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda d: d.name)
def test_example_matches_its_expected_summary(example):
    path = example / "expected.json"
    assert path.is_file(), f"{path} is missing: run python scripts/update_expected.py"
    expected = json.loads(path.read_text(encoding="utf-8"))
    got = update_expected.summarise(example, expected["replications"])
    assert got["seed"] == expected["seed"] and got["replications"] == expected["replications"]
    assert set(got["threats"]) == set(expected["threats"])
    for name, want in expected["threats"].items():
        assert got["threats"][name] == want, (
            f"{example.name}/{name} differs from expected.json; if the model changed on purpose, "
            f"run python scripts/update_expected.py and commit the diff")
    # the stored file is exactly what the script writes (nothing edited by hand)
    assert update_expected.dumps(got) == path.read_text(encoding="utf-8")
    # a summary that could not fail would prove nothing: the examples do detect and engage
    assert any(t["detected"] > 0 for t in expected["threats"].values())


def test_summary_counts_are_consistent():
    for d in EXAMPLES:
        exp = json.loads((d / "expected.json").read_text(encoding="utf-8"))
        n = exp["replications"]
        for name, t in exp["threats"].items():
            assert 0 <= t["killed"] <= t["detected"] <= n, (d.name, name)
            assert t["killed"] + t["leaked"] <= n, (d.name, name)
            assert t["p_kill"] == t["killed"] / n and t["p_detected"] == t["detected"] / n
