"""Sensitivity analysis: the figure that sets the outcome is found, the tornado matches theory."""

from __future__ import annotations

import json

import numpy as np
import pytest

from iadsim.analysis import sensitivity
from iadsim.cli import main
from iadsim.errors import InputError
from test_engine import _crossing_scenario, _neutral_pk


@pytest.fixture()
def crossing(small_dir):
    # the Pk model made neutral (the catalog's reference Pk everywhere in the envelope)
    return _neutral_pk(_crossing_scenario(small_dir, {"mode": "shoot-look-shoot", "max_engagements": 2,
                                                      "kill_assessment_s": 3}))


def test_tornado_matches_the_analytic_kill_probability(crossing):
    # Two shoot-look-shoot shots of single-shot Pk p kill with 1 - (1 - p)^2
    # (Washburn & Kress, Combat Modeling, 2009, ch. 2). The tornado sets Pk to its low and high ends.
    res = sensitivity(crossing, method="morris", outcome="pkill:owa", n=4, reps=400, seed=2)
    row = res.tornado.set_index("factor").loc["tor_m2.pk_single_shot"]
    for p, got in ((row.low_value, row.outcome_at_low), (row.high_value, row.outcome_at_high)):
        exp = 1 - (1 - p) ** 2
        assert got == pytest.approx(exp, abs=4 * np.sqrt(exp * (1 - exp) / 400) + 1e-9)
    # Pk has the largest swing; Pfa of the radar barely matters for a target this close
    assert res.tornado.factor.iloc[0] == "tor_m2.pk_single_shot"


def test_sobol_ranks_pk_first(crossing):
    res = sensitivity(crossing, method="sobol", outcome="pkill:owa", n=32, reps=50, seed=1)
    assert res.indices.factor.iloc[0] == "tor_m2.pk_single_shot"
    top = res.indices.iloc[0]
    assert top.ST > 0.5
    assert ((res.indices.ST >= -0.1) & (res.indices.ST <= 1.5)).all()


def test_bad_outcome_and_method(crossing):
    with pytest.raises(InputError, match="unknown threat"):
        sensitivity(crossing, outcome="pkill:nothing", n=2, reps=1)
    with pytest.raises(InputError, match="KIND:NAME"):
        sensitivity(crossing, outcome="bogus", n=2, reps=1)
    with pytest.raises(InputError, match="sobol"):
        sensitivity(crossing, method="fast", n=2, reps=1)


def test_sensitivity_command_writes_results(small_dir, tmp_path, crossing, capsys):
    out = tmp_path / "sens"
    rc = main(["sensitivity", str(small_dir / "crossing.yaml"), "--method", "morris", "--outcome", "pkill:owa",
               "-n", "3", "--reps", "20", "--out", str(out)])
    assert rc == 0
    data = json.loads((out / "sensitivity.json").read_text())
    assert data["method"] == "morris" and data["tornado"]
    assert (out / "tornado.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "plotly" in (out / "tornado.html").read_text()[:5_000_000]
    assert "tornado" in capsys.readouterr().out
    assert main(["sensitivity", str(small_dir / "crossing.yaml"), "--outcome", "leak:zzz",
                 "--out", str(tmp_path / "no")]) == 2
    assert not (tmp_path / "no").exists()


def test_constant_outcome_says_the_index_is_undefined(small_dir, tmp_path, crossing):
    # a threat no fire unit can engage (weapons hold): P(kill) is 0 at every design point, so every
    # Sobol' index is 0/0; the analysis says so instead of printing a table of zeros
    from iadsim.analysis.sensitivity import UndefinedSensitivity

    held = _crossing_scenario(small_dir, {"mode": "shoot-look-shoot", "fire": "hold"})
    with pytest.raises(UndefinedSensitivity, match="does not vary"):
        sensitivity(held, method="morris", outcome="pkill:owa", n=2, reps=5, seed=1)


def test_tornado_has_confidence_intervals_and_small_samples_warn(crossing):
    res = sensitivity(crossing, method="sobol", outcome="pkill:owa", n=2, reps=30, seed=3)
    row = res.tornado.set_index("factor").loc["tor_m2.pk_single_shot"]
    # 95% half-width of a mean of 30 Bernoulli outcomes: 1.96 * sd / sqrt(30), positive unless constant
    assert 0.0 < row.outcome_at_low_ci < 0.5
    assert np.isfinite(row.outcome_at_high_ci)
    # two base samples cannot estimate Sobol' indices: the result says so
    assert res.meta["warnings"], res.indices
