"""Fitted flyouts of the long-range systems (Buk-M3, Patriot PAC-2 and PAC-3 MSE, S-300PMU2, S-400 48N6):
they reproduce their public maximum range and altitude, the lofted path obeys the point-mass physics
(Zarchan 2012 ch. 1; Fleeman 2006 ch. 6: drag falls with the air density along the path), and the
engagement range against a receding target is shorter than against an approaching one."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from iadsim.catalog import load_catalog
from iadsim.catalog.envelope import (
    FLYOUT_FIGURES, LOFT_FIGURES, _path_reach, envelope_summary, fit_flyout_peak, interceptor_of, loft_of,
    loft_path_length_m, loft_table, reaches_altitude, system_table,
)
from iadsim.physics.flyout import Interceptor, envelope_table, flyout

REPO = Path(__file__).resolve().parents[1]
LONG = ("buk_m3", "mim_104_patriot_pac2", "mim_104_patriot_pac3_mse", "s_300pmu2", "s_400_48n6")
PEAK = ("mim_104_patriot_pac2", "mim_104_patriot_pac3_mse", "s_300pmu2", "s_400_48n6")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", LONG)
def test_long_range_systems_have_a_fitted_flyout(catalog, name):
    s = catalog[name]
    for key in FLYOUT_FIGURES:
        assert key in s.figures, key
        assert s.figure(key).confidence == "estimate"
    assert "fitted to figures engagement_range_max_km" in s.figure("flyout_boost_fraction").source


@pytest.mark.parametrize("name", PEAK)
def test_peak_fit_reproduces_the_public_range_and_peak_speed(catalog, name):
    """On its fitted path the missile peaks at the public speed and reaches the public maximum slant
    range at its minimum useful speed, but not 2% farther."""
    s = catalog[name]
    ic = interceptor_of(s)
    R = s.nominal("engagement_range_max_km") * 1000.0
    loft = loft_of(s) or (0.0, 45.0)
    near = _path_reach(ic, loft_path_length_m(0.999 * R, *loft), *loft, 3 * ic.max_time_s, dt=0.05)
    far = _path_reach(ic, loft_path_length_m(1.02 * R, *loft), *loft, 3 * ic.max_time_s, dt=0.05)
    assert near[1] >= ic.min_speed_m_s and near[0] <= ic.max_time_s
    assert far[1] < ic.min_speed_m_s
    assert near[1] == pytest.approx(ic.min_speed_m_s, rel=0.02)
    assert near[2] == pytest.approx(s.nominal("missile_speed_m_s"), rel=0.01)
    # the drag floor of the fit holds (no implausibly slippery missile)
    assert ic.ballistic_m2_kg >= 1e-5 * (1 - 1e-9)


def test_buk_m3_reproduces_its_public_range_at_the_mean_speed(catalog):
    s = catalog["buk_m3"]
    ic = interceptor_of(s)
    R = s.nominal("engagement_range_max_km") * 1000.0
    r = flyout(ic, [R * 0.999, R * 1.02], 0.0, dt_s=0.02)
    assert r.reachable[0] and not r.reachable[1]
    assert r.tof_s[0] == pytest.approx(0.999 * R / s.nominal("missile_speed_m_s"), rel=0.01)


@pytest.mark.parametrize("name", LONG)
def test_long_range_flyout_reaches_the_public_altitude(catalog, name):
    s = catalog[name]
    ic = interceptor_of(s)
    cap = s.nominal("engagement_range_max_km") * 1000.0
    hmax = s.nominal("engagement_altitude_max_m")
    assert reaches_altitude(ic, cap, hmax)
    # ... and no higher than a drag-free, gravity-free climb could take it: the vacuum speed gain
    # (Tsiolkovsky; Sutton & Biblarz 2010 eq. 4-6) held for the whole guidance time
    assert not reaches_altitude(ic, 10 * cap, ic.delta_v_vacuum_m_s * ic.max_time_s)


@pytest.mark.parametrize("name", ["s_300pmu2", "s_400_48n6"])
def test_engine_envelope_reaches_the_public_range_through_the_loft(catalog, name):
    """The engine's table (direct or lofted, the faster) reaches within 3% of the public maximum slant
    range at some height; the direct path alone falls short of it (dense air along the way)."""
    s = catalog[name]
    assert loft_of(s) is not None
    R = s.nominal("engagement_range_max_km") * 1000.0
    env = envelope_summary(s)
    assert env["max_range_any_m"] >= 0.97 * R
    ic = interceptor_of(s)
    with np.errstate(over="ignore", invalid="ignore"):     # steep rays falling back past the table
        d = envelope_table(ic, 1.1 * R, 1.1 * s.nominal("engagement_altitude_max_m"), 0.0, 161, 101)
    G, H = np.meshgrid(d.gr_m, d.h_m, indexing="ij")
    assert np.hypot(G, H)[d.feasible].max() < 0.9 * R


@pytest.mark.parametrize("name", ["mim_104_patriot_pac2", "s_400_48n6"])
def test_receding_target_is_engaged_nearer_than_an_approaching_one(catalog, name):
    aspect = _script("envelopes_table")._aspect_range
    s = catalog[name]
    app = aspect(s, -250.0)
    rec = aspect(s, 250.0)
    assert 0 < rec < app


def test_lofted_path_loses_less_speed_than_a_direct_one_at_low_level():
    """Same missile, same distant low target: the lofted path (most of it in thin air) arrives faster
    than the straight line at sea level, though longer; and the speed at a fixed height falls with
    range after burn-out (drag and no thrust)."""
    ic = Interceptor(240.0, 10.0, 0.7, 0.0, 0.0, 4e-5, 300.0, 600.0)
    lo = loft_table(ic, 20000.0, 45.0, 200e3, 22e3, 0.0, nr=81, nh=23)
    with np.errstate(over="ignore", invalid="ignore"):     # steep rays falling back past the table
        d = envelope_table(ic, 200e3, 22e3, 0.0, nr=81, nh=23)
    i = np.searchsorted(lo.gr_m, 150e3)
    assert lo.speed_m_s[i, 0] > d.speed_m_s[i, 0]
    k = np.searchsorted(lo.h_m, 20000.0)
    row = lo.speed_m_s[np.searchsorted(lo.gr_m, 40e3):np.searchsorted(lo.gr_m, 180e3), k]
    assert np.all(np.diff(row) < 0)
    # time of flight grows with range along the same height
    trow = lo.tof_s[np.searchsorted(lo.gr_m, 40e3):np.searchsorted(lo.gr_m, 180e3), k]
    assert np.all(np.diff(trow) > 0)


def test_loft_without_drag_conserves_energy_after_burn_out():
    """A coasting missile without drag (ballistic parameter 0) trades speed for height only, so
    v^2 + 2 g h is the same at every point reached after burn-out, whatever the path (energy
    conservation of a point mass, e.g. Zarchan 2012 ch. 1); during the burn it is below that."""
    ic = Interceptor(240.0, 5.0, 0.6, 0.0, 0.0, 0.0, 0.0, 400.0)
    lo = loft_table(ic, 20000.0, 45.0, 120e3, 30e3, 0.0, nr=61, nh=31)
    g = 9.80665
    e = []
    for gr, h in ((60e3, 20000.0), (100e3, 10000.0), (100e3, 29000.0), (119e3, 0.0), (40e3, 25000.0)):
        i = np.argmin(np.abs(lo.gr_m - gr))
        k = np.argmin(np.abs(lo.h_m - h))
        assert lo.tof_s[i, k] > ic.boost_time_s
        e.append(lo.speed_m_s[i, k] ** 2 + 2 * g * lo.h_m[k])
    assert np.ptp(e) / np.mean(e) < 2e-3
    # the burn ends on the climb: its speed is the rocket equation's minus the gravity loss
    vb = 240.0 * g * math.log(1 / 0.4) - g * math.sin(math.radians(45.0)) * 5.0
    assert np.sqrt(e[0]) > vb          # the burn-out point is above the ground: energy includes 2 g h_b


def test_peak_fit_is_reproducible(catalog):
    s = catalog["mim_104_patriot_pac3_mse"]
    mod = _script("fit_flyout")
    fit = fit_flyout_peak(s.nominal("engagement_range_max_km") * 1000.0, s.nominal("missile_speed_m_s"),
                          isp_s=s.nominal("flyout_isp_s"), boost_time_s=s.nominal("flyout_boost_time_s"),
                          sustain_time_s=0.0, sustain_share=0.0, min_speed_m_s=s.nominal("flyout_min_speed_m_s"),
                          ballistic_min_m2_kg=mod.BALLISTIC_MIN)
    for key in FLYOUT_FIGURES:
        assert s.nominal(key) == pytest.approx(fit[key], rel=1e-5), key


def test_loft_figures_come_together(catalog):
    for name, s in catalog.items():
        present = [k for k in LOFT_FIGURES if k in s.figures]
        assert len(present) in (0, len(LOFT_FIGURES)), name
        if present:
            assert all(s.figure(k).confidence == "estimate" for k in present)
            assert system_table(s).max_time_s == s.nominal("flyout_max_time_s")


@pytest.mark.parametrize("change,field", [
    ({"flyout_loft_elevation_deg": 95.0}, "flyout_loft_elevation_deg"),
    ({"flyout_loft_altitude_m": None}, "flyout_loft_altitude_m"),
])
def test_bad_loft_figures_are_refused(tmp_path, change, field):
    import yaml

    from iadsim.catalog import builtin_dir, load_system_file
    from iadsim.errors import InputError

    data = yaml.safe_load((Path(builtin_dir()) / "s_400_48n6.yaml").read_text(encoding="utf-8"))
    for key, v in change.items():
        if v is None:
            del data["figures"][key]
        else:
            data["figures"][key].update({"value": v})
    path = tmp_path / "s_400_48n6.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_system_file(path)
    assert field in str(err.value) and "s_400_48n6.yaml" in str(err.value)
