"""Sensor types behind one interface (iadsim.sensors): the radar, a passive ESM receiver and an
electro-optical tracker; their detection laws, and the direction of their effects in a scenario."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import small_scenario_dict
from iadsim.catalog import load_catalog, load_system_file
from iadsim.errors import InputError
from iadsim.physics.radar import pd_swerling1, snr_required
from iadsim.sensors import SENSOR_TYPES, equivalent_snr, sensor_type_of
from iadsim.sensors.eo import eo_detection_probability, johnson_probability, johnson_ratio
from iadsim.sensors.esm import esm_snr


# --- the interface -------------------------------------------------------------------------------

def test_equivalent_snr_gives_exactly_the_pd_through_the_swerling1_law():
    # Swerling 1, one look: Pd = Pfa^(1/(1+SNR)) (Swerling 1960 case 1; Skolnik 2001 ch. 2), so
    # SNR = ln Pfa / ln Pd - 1 maps any Pd in (Pfa, 1) exactly onto the kernels' draw
    pfa = 1e-6
    pd = np.array([2e-6, 0.01, 0.3, 0.5, 0.9, 0.999])
    assert np.allclose(pd_swerling1(equivalent_snr(pd, pfa), pfa), pd, rtol=1e-12)
    assert np.all(np.diff(equivalent_snr(pd, pfa)) > 0)               # more Pd, more SNR
    assert np.all(equivalent_snr([0.0, pfa, pfa / 2], pfa) == 0.0)     # no better than chance: no look
    assert pd_swerling1(equivalent_snr(1.0, pfa), pfa) > 1 - 1e-5


def test_three_types_registered_and_a_fire_units_sensor_is_its_radar():
    assert {"radar", "esm", "eo"} <= set(SENSOR_TYPES)
    cat = load_catalog()
    assert sensor_type_of(cat["tor_m2"]).name == "radar"
    assert sensor_type_of(cat["generic_esm_receiver"]).name == "esm"
    assert sensor_type_of(cat["generic_eo_tracker"]).name == "eo"
    assert SENSOR_TYPES["radar"].jammed and not SENSOR_TYPES["esm"].jammed and not SENSOR_TYPES["eo"].jammed


def test_catalog_sensor_type_and_its_figures_are_checked(tmp_path):
    src = yaml.safe_load(_builtin("generic_esm_receiver.yaml").read_text(encoding="utf-8"))
    bad = dict(src, sensor_type="sonar")
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError) as e:
        load_system_file(tmp_path / "a.yaml")
    assert "sensor_type" in str(e.value) and "'esm'" in str(e.value)
    less = copy.deepcopy(src)
    del less["figures"]["esm_pfa"]
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(less))
    with pytest.raises(InputError, match=r"figures\.esm_pfa"):
        load_system_file(tmp_path / "b.yaml")
    half = copy.deepcopy(src)   # a link budget needs all its figures
    half["figures"]["esm_sensitivity_dbm"] = {"value": -80, "unit": "dBm", "confidence": "estimate",
                                              "source": "iadsim estimate: a test value"}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(half))
    with pytest.raises(InputError, match=r"figures\.esm_frequency_ghz"):
        load_system_file(tmp_path / "c.yaml")


def _builtin(name):
    from iadsim.catalog import builtin_dir

    return builtin_dir() / name


# --- the detection laws --------------------------------------------------------------------------

def test_esm_one_way_reference_form():
    # one-way link (Friis 1946; Adamy, EW 101, 2001 ch. 5): received power ∝ ERP / R^2
    ref = float(snr_required(0.5, 1e-6))
    at_ref = esm_snr(100e3, 250.0, 100e3, 250.0, ref)
    assert at_ref == pytest.approx(ref)
    assert pd_swerling1(at_ref, 1e-6) == pytest.approx(0.5)
    assert esm_snr(200e3, 250.0, 100e3, 250.0, ref) == pytest.approx(ref / 4)     # twice as far: a quarter
    assert esm_snr(100e3, 1000.0, 100e3, 250.0, ref) == pytest.approx(ref * 4)    # 4x the ERP: 4x
    assert esm_snr(1e3, 0.0, 100e3, 250.0, ref) == 0.0                             # silent: nothing
    r = np.linspace(1e3, 300e3, 50)
    assert np.all(np.diff(esm_snr(r, 250.0, 100e3, 250.0, ref)) < 0)


def test_johnson_acquire_curve_and_size_scaling():
    # ACQUIRE target transfer probability (Vollmerhausen & Driggers 2000): P(N50) = 0.5,
    # E = 2.7 + 0.7 N/N50; P(2 N50) = 2^4.1 / (1 + 2^4.1)
    assert johnson_probability(1.0) == pytest.approx(0.5)
    assert johnson_probability(2.0) == pytest.approx(2 ** 4.1 / (1 + 2 ** 4.1))
    assert johnson_probability(0.0) == 0.0 and johnson_probability(1e6) == pytest.approx(1.0)
    assert johnson_ratio(0.5) == pytest.approx(1.0)
    # the quoted range: Pd_ref for the reference size
    assert eo_detection_probability(10e3, 2.3, 10e3, 2.3, 0.5) == pytest.approx(0.5)
    r = np.linspace(1e3, 30e3, 60)
    big, small = (eo_detection_probability(r, d, 10e3, 2.3, 0.5) for d in (3.5, 1.0))
    assert np.all(np.diff(big) < 0) and np.all(small <= big)
    # the 50 % range grows in proportion to the size (N ∝ size / range)
    assert eo_detection_probability(10e3 * 3.5 / 2.3, 3.5, 10e3, 2.3, 0.5) == pytest.approx(0.5)


# --- in a scenario -------------------------------------------------------------------------------

def _scenario(jammer: bool = True, sensors=("esm", "eo"), duration_s: int = 700) -> dict:
    d = small_scenario_dict()
    d["simulation"].update({"duration_s": duration_s, "replications": 8})
    d["effectors"] = d["effectors"][:1]       # sam-1, a Tor-M2 (jamming figures)
    owa = d["threats"][0]
    owa["count"] = 2
    jam = dict(copy.deepcopy(owa), name="jam", count=1, launch_time_s=30)
    if jammer:
        jam["jammer"] = {"system": "generic_escort_jammer", "mode": "self-screen", "targets": ["sam-1"]}
    d["threats"] = [owa, jam]
    sites = {"esm": {"name": "esm", "system": "generic_esm_receiver", "site": {"lat": 10.25, "lon": 20.16}},
             "eo": {"name": "eo", "system": "generic_eo_tracker", "site": {"lat": 10.27, "lon": 20.12}}}
    d["sensors"] = [sites[k] for k in sensors]
    return d


def _world(tmp_path, data, catalog=None, name="s.yaml"):
    import iadsim

    (tmp_path / name).write_text(yaml.safe_dump(data))
    ld = iadsim.load_scenario(tmp_path / name, catalog=catalog)
    from iadsim.engine.world import compile_world

    return compile_world(ld), ld


def _first(world, s, m):
    seen = np.flatnonzero(world.snr[:, s, m] > 0)
    return int(seen[0]) if seen.size else None


def test_esm_never_detects_a_silent_threat_and_a_jammer_gives_it_away_earlier(small_dir):
    w, _ = _world(small_dir, _scenario(jammer=True))
    w0, _ = _world(small_dir, _scenario(jammer=False), name="quiet.yaml")
    esm = w.sensor_labels.index("esm")
    silent = [m for m, lab in enumerate(w.threat_labels) if lab.startswith("owa")]
    jam = w.threat_labels.index("jam")
    assert np.all(w.snr[:, esm, silent] == 0.0)            # never a look at a silent drone
    assert np.all(w0.snr[:, esm, :] == 0.0)                # without the jammer nothing emits
    assert _first(w, esm, jam) is not None                 # the jammer is heard
    # per step the jammer only adds SNR (never less), so its first detection comes earlier, never later
    assert np.all(w.snr[:, esm, jam] >= w0.snr[:, esm, jam])
    # the other sensors do not see the jammer: the optical look is the same with or without it
    eo = w.sensor_labels.index("eo")
    assert np.array_equal(w.snr[:, eo, :], w0.snr[:, eo, :])
    assert "sensor_esm" in w.models and "sensor_eo" in w.models


def test_eo_detection_range_shrinks_with_a_smaller_target(small_dir):
    data = _scenario(jammer=False, sensors=("eo",))
    for t in data["threats"]:
        t["altitude_m"] = 1500     # above the hills: the range, not the terrain, decides
    w, _ = _world(small_dir, data)
    cat = load_catalog()
    fig = cat["shahed_136"].figures["size_m"]
    cat["shahed_136"].figures["size_m"] = fig.model_copy(update={"value": 1.0, "low": 1.0, "high": 1.0})
    ws, _ = _world(small_dir, data, catalog=cat, name="small.yaml")
    eo = w.sensor_labels.index("eo")
    assert (w.snr[:, eo, :] > 0).any()
    assert np.all(ws.snr[:, eo, :] <= w.snr[:, eo, :])      # every look worse or equal
    for m in range(w.snr.shape[2]):
        big, small = _first(w, eo, m), _first(ws, eo, m)
        assert big is not None and (small is None or small >= big)
    # the same geometry: range of first look at Pd >= 0.5 is shorter for the smaller drone
    thr = float(snr_required(0.5, w.pfa[eo]))
    rng = lambda wd: np.linalg.norm(wd.pos[:, 0, :] - wd.sensor_xyz[eo], axis=-1)  # noqa: E731
    first_half = lambda wd: np.flatnonzero(wd.snr[:, eo, 0] >= thr)[0]           # noqa: E731
    assert rng(ws)[first_half(ws)] < rng(w)[first_half(w)]


def test_removing_a_sensor_never_brings_detection_earlier(small_dir):
    import iadsim

    det = {}
    for key, sensors in (("all", ("esm", "eo")), ("less", ("esm",)), ("none", ())):
        (small_dir / f"{key}.yaml").write_text(yaml.safe_dump(_scenario(sensors=sensors)))
        df = iadsim.simulate(iadsim.load_scenario(small_dir / f"{key}.yaml"), replications=8, seed=5).replications
        det[key] = df.set_index(["replication", "threat"]).detected_at_s.fillna(np.inf).sort_index()
    # the last sensor removed: the others keep their indices and draws, so per replication and threat
    assert np.all(det["all"].values <= det["less"].values)
    assert np.all(det["less"].values <= det["none"].values)
    assert (det["all"].values < det["none"].values).any()      # the sensors do add something


def test_full_fidelity_measures_bearing_only_and_laser_range(small_dir):
    import iadsim

    data = _scenario()
    data["simulation"].update({"fidelity": "full", "duration_s": 500})
    w, ld = _world(small_dir, data)
    esm, eo = w.sensor_labels.index("esm"), w.sensor_labels.index("eo")
    bound = w.sensor_range_m[esm]
    assert w.full.sigma[esm, 0] == pytest.approx(bound / np.sqrt(12.0))     # no range: uniform over [0, R]
    assert np.all(w.full.meas_r[:, esm, :] == np.float32(0.5 * bound))
    assert w.full.sigma[eo, 0] == pytest.approx(5.0)                          # the laser range finder
    res = iadsim.simulate(ld, replications=4, seed=3)
    assert res.replications.detected_at_s.notna().any()


def test_night_needs_an_infrared_channel(small_dir):
    cat = load_catalog()
    del cat["generic_eo_tracker"].figures["eo_ir_detection_range_km"]
    data = _scenario(sensors=("esm", "eo"))
    data["sensors"][1]["light"] = "night"
    with pytest.raises(InputError, match=r"sensors\[1\]\.light"):
        _world(small_dir, data, catalog=cat)
    # with its infrared channel it sees at night over the shorter IR range
    w_day, _ = _world(small_dir, _scenario(sensors=("eo",)), name="day.yaml")
    night = _scenario(sensors=("eo",))
    night["sensors"][0]["light"] = "night"
    w_night, _ = _world(small_dir, night, name="night.yaml")
    assert w_night.sensor_ref_range_m[0 + 1] < w_day.sensor_ref_range_m[1]
    assert np.all(w_night.snr[:, 1, :] <= w_day.snr[:, 1, :])


def test_bad_light_exit_2_names_field_and_writes_nothing(small_dir, tmp_path, capsys):
    from iadsim.cli import main

    data = _scenario()
    data["sensors"][1]["light"] = "dusk"
    bad = small_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    out = tmp_path / "never"
    assert main(["run", str(bad), "-n", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "sensors[1].light" in err and "Traceback" not in err
    assert not out.exists()


def test_an_anti_radiation_missile_cannot_be_aimed_at_a_passive_sensor(tmp_path):
    import iadsim
    from conftest import REPO

    data = yaml.safe_load((REPO / "examples" / "sead-strike" / "scenario.yaml").read_text(encoding="utf-8"))
    search = next(x for x in data["sensors"] if x["name"] == "search")
    search["system"] = "generic_esm_receiver"     # the site the HARMs are aimed at becomes passive
    data.pop("options", None)
    data["terrain"]["dem"] = "bundled:S33W071.tif"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"threats\[0\]\.mission\.weapon\.target.*emits nothing"):
        iadsim.load_scenario(tmp_path / "s.yaml")


def test_esm_reference_range_from_the_receivers_sensitivity():
    from iadsim.sensors import Site
    from iadsim.sensors.esm import friis_range_m

    # Friis 1946 one-way link, worked by hand: EIRP 1 kW, 0 dBi, 3 GHz (λ = 0.0999 m), -80 dBm =
    # 1e-11 W: R = λ/(4π) sqrt(1e3 / 1e-11) = 0.0999 / 12.566 x 1e7 = 79.5 km
    lam = 299_792_458.0 / 3e9
    assert friis_range_m(1e3, 1e-11, 1.0, lam) == pytest.approx(lam / (4 * np.pi) * 1e7)
    assert friis_range_m(1e3, 1e-11, 1.0, lam) == pytest.approx(79.5e3, rel=1e-3)
    assert friis_range_m(4e3, 1e-11, 1.0, lam) == pytest.approx(2 * friis_range_m(1e3, 1e-11, 1.0, lam))
    cat = load_catalog()
    sysm = cat["generic_esm_receiver"]
    site = Site(name="e", where="sensors[0]", x=0.0, y=0.0, ground=0.0, alt=0.0, sector=(0, 0, 0, 0))
    quoted = SENSOR_TYPES["esm"].spec(sysm, site, lambda s_, k, u: s_.nominal(k))
    assert quoted.ref_range_m == pytest.approx(200e3)
    from iadsim.catalog import Figure

    for key, val, unit in (("esm_sensitivity_dbm", -80.0, "dBm"), ("esm_antenna_gain_dbi", 0.0, "dBi"),
                           ("esm_frequency_ghz", 3.0, "GHz")):
        sysm.figures[key] = Figure(value=val, unit=unit, source="iadsim estimate: a test value", confidence="estimate")
    linked = SENSOR_TYPES["esm"].spec(sysm, site, lambda s_, k, u: s_.nominal(k))
    # the reference emitter is 250 W: R = 79.5 km x sqrt(250 / 1000)
    assert linked.ref_range_m == pytest.approx(friis_range_m(250.0, 1e-11, 1.0, lam))
    assert linked.ref_range_m == pytest.approx(79.5e3 / 2, rel=1e-3)


@settings(max_examples=200, deadline=None)
@given(pd=st.floats(1e-3, 0.999), pfa=st.floats(1e-10, 1e-4))
def test_property_equivalent_snr_round_trips(pd, pfa):
    # Pd = Pfa^(1/(1+SNR)) (Swerling 1960) gives back the Pd it was made from
    assert pd_swerling1(equivalent_snr(pd, pfa), pfa) == pytest.approx(pd, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(r1=st.floats(100.0, 5e5), r2=st.floats(100.0, 5e5), e1=st.floats(0.0, 1e5), e2=st.floats(0.0, 1e5),
       d1=st.floats(0.1, 40.0), d2=st.floats(0.1, 40.0))
def test_property_direction_of_effects(r1, r2, e1, e2, d1, d2):
    ref = float(snr_required(0.5, 1e-6))
    near, far = min(r1, r2), max(r1, r2)
    weak, strong = min(e1, e2), max(e1, e2)
    small, big = min(d1, d2), max(d1, d2)
    # ESM: farther never helps, more ERP never hurts, a silent threat is never heard
    assert esm_snr(far, strong, 1e5, 250.0, ref) <= esm_snr(near, strong, 1e5, 250.0, ref)
    assert esm_snr(near, weak, 1e5, 250.0, ref) <= esm_snr(near, strong, 1e5, 250.0, ref)
    assert esm_snr(near, 0.0, 1e5, 250.0, ref) == 0.0
    # EO: farther never helps, a smaller target is never seen better
    assert eo_detection_probability(far, big, 1e4, 2.3, 0.5) <= eo_detection_probability(near, big, 1e4, 2.3, 0.5)
    assert eo_detection_probability(near, small, 1e4, 2.3, 0.5) <= eo_detection_probability(near, big, 1e4, 2.3, 0.5)
