"""Jamming figures under ``simulation.uncertainty: sample``: drawn per replication over their catalog
ranges (triangular, mode at nominal), recorded with the other draws, and scaling J/S in both kernels."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import small_scenario_dict
from iadsim.engine import compile_world, simulate_chunk
from iadsim.engine.parameters import JAMMING_FIGURES, SAMPLED_FIGURES, apply, apply_readiness, nominal, sampled
from test_ew import _load, jammed_dict


def _sampled_dict(base: dict) -> dict:
    base["simulation"]["uncertainty"] = "sample"
    return base


def test_jamming_figures_vary_across_replications_and_are_recorded(tmp_path, synthetic_dem):
    jam = compile_world(_load(tmp_path, synthetic_dem, _sampled_dict(jammed_dict()), "jam.yaml"))
    n = 64
    p = sampled(jam, 3, 0, n)
    jkeys = [k for k in p.draws if k[1] in JAMMING_FIGURES]
    assert {k for _s, k in jkeys} == set(JAMMING_FIGURES)
    assert all(SAMPLED_FIGURES[k] == "jamming" for _s, k in jkeys)
    figs = {(u.system, u.key): u.figure for u in jam.figures}
    for k in jkeys:
        f, v = figs[k], p.draws[k]
        assert f.source and f.confidence
        if f.high > f.low:
            assert v.std() > 0 and (v >= f.low).all() and (v <= f.high).all(), k
    assert p.js_scale.shape == (n, len(jam.sensor_labels), 1) and p.js_scale.std() > 0
    # drawn from their own stream: every other figure draws what it drew before jamming figures were
    # sampled (the same figures of the scenario without a jammer)
    clear = compile_world(_load(tmp_path, synthetic_dem, _sampled_dict(small_scenario_dict()), "clear.yaml"))
    pc = sampled(clear, 3, 0, n)
    assert not any(k[1] in JAMMING_FIGURES for k in pc.draws)
    for k, v in pc.draws.items():
        assert np.array_equal(p.draws[k], v), k


def test_jamming_scale_is_the_js_ratio_of_the_drawn_figures(tmp_path, synthetic_dem):
    # J/S ~ Pj Gj min(1, Br/Bj) gamma / (Pt Gt E) (Adamy, "EW 101", 2001, ch. 9): +10 dB of ECCM
    # divides J/S by 10, 4x the jammer power multiplies it by 4
    w = compile_world(_load(tmp_path, synthetic_dem, jammed_dict(), "jam.yaml"))
    radar = w.sensor_system[0]
    nom_e = next(u.figure.value for u in w.figures if u.system == radar and u.key == "radar_eccm_improvement_db")
    jsys = w.ew.jammers[0]["system"]
    nom_p = next(u.figure.value for u in w.figures if u.system == jsys and u.key == "jammer_power_w")
    p = nominal(w, 2)
    apply(w, p, {(radar, "radar_eccm_improvement_db"): np.array([nom_e, nom_e + 10.0]),
                 (jsys, "jammer_power_w"): np.array([4.0 * nom_p, nom_p])})
    assert p.js_scale[0, 0, 0] == pytest.approx(4.0)
    assert p.js_scale[1, 0, 0] == pytest.approx(0.1)


@pytest.mark.parametrize("fidelity", ["fast", "full"])
def test_more_eccm_or_less_jammer_power_never_lowers_p_detected(tmp_path, synthetic_dem, fidelity):
    """Property (common random numbers): a higher ECCM draw or a weaker jammer only lowers J/S, so
    every threat is first detected no later (or at all, where it was)."""
    data = jammed_dict()
    data["simulation"]["fidelity"] = fidelity
    w = compile_world(_load(tmp_path, synthetic_dem, data, f"jam-{fidelity}.yaml"))
    radars = sorted(set(w.sensor_system))
    jsys = w.ew.jammers[0]["system"]
    lim = {(u.system, u.key): u.figure for u in w.figures}
    n = 24 if fidelity == "fast" else 8
    seed = 5

    def run(eccm_end: str, power_end: str):
        draws = {(r, "radar_eccm_improvement_db"): np.full(n, float(getattr(lim[(r, "radar_eccm_improvement_db")],
                                                                            eccm_end))) for r in radars}
        draws[(jsys, "jammer_power_w")] = np.full(n, float(getattr(lim[(jsys, "jammer_power_w")], power_end)))
        p = nominal(w, n)
        apply(w, p, draws)
        apply_readiness(w, p, seed, 0)
        d = simulate_chunk(w, seed, 0, n, params=p).det_step.astype(float)
        d[d < 0] = np.inf
        return d

    worst = run("low", "high")
    mid = run("value", "value")
    best = run("high", "low")
    assert np.all(best <= mid) and np.all(mid <= worst)
    assert np.isfinite(best).sum() >= np.isfinite(mid).sum() >= np.isfinite(worst).sum()
    assert np.any(best < worst)        # and the figures matter


def test_sensitivity_analysis_ranks_the_jamming_figures(tmp_path, synthetic_dem):
    from iadsim.analysis.sensitivity import factors_of

    w = compile_world(_load(tmp_path, synthetic_dem, jammed_dict(), "jam.yaml"))
    keys = {k for _s, k, *_ in factors_of(w)}
    assert {"radar_eccm_improvement_db", "jammer_power_w"} <= keys
    clear = compile_world(_load(tmp_path, synthetic_dem, small_scenario_dict(), "clear.yaml"))
    assert not {k for _s, k, *_ in factors_of(clear)} & JAMMING_FIGURES


def test_a_sampled_run_records_the_jamming_draws(tmp_path, synthetic_dem):
    import iadsim

    ld = _load(tmp_path, synthetic_dem, _sampled_dict(jammed_dict()), "jam.yaml")
    res = iadsim.simulate(ld, replications=12, seed=2)
    got = {k for _s, k in res.raw.draws}
    assert set(JAMMING_FIGURES) <= got
    v = res.raw.draws[(res.world.sensor_system[0], "radar_eccm_improvement_db")]
    assert v.shape == (12,) and v.std() > 0
