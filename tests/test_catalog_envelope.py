"""Fitted flyout figures: reproducible, they reproduce the public envelope figures, and the catalog
refuses contradictory envelopes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from iadsim.catalog import builtin_dir, load_catalog, load_system_file
from iadsim.catalog.envelope import FLYOUT_FIGURES, fit_flyout, interceptor_of
from iadsim.errors import InputError
from iadsim.physics.flyout import flyout

REPO = Path(__file__).resolve().parents[1]
SEED = ("pantsir_s1", "tor_m2", "buk_m2")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize("name", SEED)
def test_fit_is_reproducible(catalog, name):
    s = catalog[name]
    fit = fit_flyout(s.nominal("engagement_range_max_km") * 1000.0, s.nominal("missile_speed_m_s"),
                     isp_s=s.nominal("flyout_isp_s"), boost_time_s=s.nominal("flyout_boost_time_s"),
                     sustain_time_s=s.nominal("flyout_sustain_time_s"), sustain_share=0.0,
                     min_speed_m_s=s.nominal("flyout_min_speed_m_s"))
    for key in FLYOUT_FIGURES:
        assert s.nominal(key) == pytest.approx(fit[key], rel=1e-5), key
        assert s.figure(key).confidence == "estimate"
    assert "fitted to figures engagement_range_max_km" in s.figure("flyout_boost_fraction").source


@pytest.mark.parametrize("name", SEED)
def test_fitted_flyout_reproduces_the_public_range_and_mean_speed(catalog, name):
    s = catalog[name]
    ic = interceptor_of(s)
    R = s.nominal("engagement_range_max_km") * 1000.0
    r = flyout(ic, [R * 0.999, R * 1.02], 0.0, dt_s=0.02)
    # at the public maximum range (sea level, horizontal) the missile just keeps its minimum speed
    assert r.reachable[0] and not r.reachable[1]
    assert r.speed_m_s[0] == pytest.approx(ic.min_speed_m_s, rel=0.01)
    # after range / mean speed (the catalog's missile_speed_m_s)
    assert r.tof_s[0] == pytest.approx(0.999 * R / s.nominal("missile_speed_m_s"), rel=0.01)
    # and reaches the public maximum altitude within its slant-range cap
    hmax = s.nominal("engagement_altitude_max_m")
    up = flyout(ic, hmax * 0.3, hmax, dt_s=0.05)
    assert up.reachable


@pytest.mark.slow
def test_fit_script_check_passes():
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "fit_flyout.py"), "--check"],
                         capture_output=True, text=True, env={"PYTHONPATH": str(REPO / "src")}, timeout=1200)
    assert out.returncode == 0, out.stdout + out.stderr


def _entry(name="pantsir_s1") -> dict:
    return yaml.safe_load((Path(builtin_dir()) / f"{name}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("change", [
    {"engagement_altitude_max_m": 25000},     # beyond the 20 km slant-range cap
    {"flyout_boost_fraction": 0.15},          # a missile too weak to climb to 15,000 m
])
def test_altitude_above_the_flyouts_reach_is_refused(tmp_path, change):
    data = _entry()
    for key, v in change.items():
        data["figures"][key].update({"value": v})
    path = tmp_path / "pantsir_s1.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_system_file(path)
    msg = str(err.value)
    assert str(path) in msg and "figures.engagement_altitude_max_m" in msg
    assert "'pantsir_s1'" in msg and "reach" in msg


def test_min_range_above_max_range_is_refused(tmp_path):
    data = _entry("tor_m2")
    data["figures"]["engagement_range_min_km"].update({"value": 16, "low": 16, "high": 16})
    path = tmp_path / "tor_m2.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_system_file(path)
    msg = str(err.value)
    assert "figures.engagement_range_min_km" in msg and "above the maximum" in msg and "'tor_m2'" in msg


def test_incomplete_flyout_figures_are_refused(tmp_path):
    data = _entry()
    del data["figures"]["flyout_ballistic_m2_kg"]
    path = tmp_path / "pantsir_s1.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"figures\.flyout_ballistic_m2_kg"):
        load_system_file(path)


def test_catalog_show_plot_writes_a_png(tmp_path):
    from iadsim.cli import main

    out = tmp_path / "env.png"
    assert main(["catalog", "show", "tor_m2", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["catalog", "show", "mq_9_reaper", "--plot", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()
    assert main(["catalog", "show", "tor_m2", "--plot", str(tmp_path / "nope" / "x.png")]) == 2


def test_envelope_table_in_docs_is_up_to_date():
    import importlib.util

    spec = importlib.util.spec_from_file_location("envelopes_table", REPO / "scripts" / "envelopes_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (REPO / "docs" / "envelopes.md").read_text(encoding="utf-8") == mod.table(), \
        "docs/envelopes.md is stale: run python scripts/envelopes_table.py"
