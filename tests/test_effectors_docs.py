"""docs/effectors.md: the worked example (a laser effector type added as one module, a catalog entry
and a scenario) runs as written, and the effector registry picks the bundled types.

The laser's dwell model is the peak irradiance of a focused Gaussian beam (Siegman 1986, "Lasers", ch. 17: spot radius
M^2 lambda R / (pi w0) at range R from an aperture of radius w0; peak irradiance 2 P / (pi w^2))
with Beer-Lambert extinction (Gebhardt 1976, Applied Optics 15(6)); checked below against those
formulas by hand."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from iadsim.catalog import load_catalog

DOC = Path(__file__).resolve().parents[1] / "docs" / "effectors.md"


def _blocks() -> list[tuple[str, str]]:
    """(language, code) of each fenced block of the doc, in order."""
    return re.findall(r"```(\w+)\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.fixture()
def worked_example(tmp_path, monkeypatch):
    """Write the doc's file blocks (first line ``# file: NAME``) into a folder and run its other Python
    blocks there, in order; the laser type is unregistered afterwards."""
    from iadsim.effectors import REGISTRY

    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "effectors_doc"}
    before = dict(REGISTRY)
    try:
        for lang, code in _blocks():
            first = code.splitlines()[0] if code.strip() else ""
            m = re.match(r"#\s*file:\s*(\S+)", first)
            if m:
                path = tmp_path / m.group(1)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(code, encoding="utf-8")
            elif lang == "python":
                exec(compile(code, str(DOC), "exec"), ns)   # noqa: S102 - the doc's own example
        yield ns, tmp_path
    finally:
        REGISTRY.clear()
        REGISTRY.update(before)
        sys.modules.pop("laser_effector", None)
        if str(Path(".")) in sys.path:
            sys.path.remove(".")


def test_the_worked_example_runs_and_the_laser_kills_less_at_longer_range(worked_example):
    ns, d = worked_example
    killed = ns["killed"]
    assert killed[1.0] > killed[4.0] + 0.05, killed     # direction: farther, longer dwell, fewer kills
    assert killed[4.0] > 0.0
    assert (d / "catalog" / "demo_hel_50kw.yaml").exists()
    w = ns["res"].world
    # the run's flyout and kill texts are the laser's own: what it leaves out, nothing of missiles or guns
    for key in ("flyout", "kill"):
        assert w.models[key].startswith("High-energy laser fire units") and "Leaves out for lasers" in w.models[key]
        assert "missile" not in w.models[key] and "Gun fire units" not in w.models[key]
    # laser figures are logged for the report, and every figure of the entry carries a source
    used = {(f.system, f.key) for f in w.figures}
    assert ("demo_hel_50kw", "laser_power_kw") in used and ("demo_hel_50kw", "laser_kill_fluence_j_cm2") in used
    assert all(f.figure.source for f in w.figures)


def test_the_laser_tables_follow_the_beam_model(worked_example):
    ns, d = worked_example
    import iadsim
    from iadsim.engine import compile_world

    mod = sys.modules["laser_effector"]
    cat = load_catalog("catalog")
    sysm = cat["demo_hel_50kw"]
    # dwell by hand at 3 km: Gaussian beam + spread in quadrature, Beer-Lambert, fluence / irradiance
    r = 3000.0
    w0, m2, lam = 0.15, 1.5, 1.07e-6
    w2 = (m2 * lam * r / (math.pi * w0)) ** 2 + (30e-6 * r) ** 2   # focused spot + spread in quadrature
    i0 = 2 * 50e3 * math.exp(-0.1 * 3.0) / (math.pi * w2)
    assert mod.dwell_time_s(sysm, r) == pytest.approx(1000 * 1e4 / i0, rel=1e-12)
    # direction: dwell grows with range; a stronger laser dwells less
    rs = np.linspace(200.0, 6000.0, 30)
    assert np.all(np.diff(mod.dwell_time_s(sysm, rs)) > 0)
    strong = sysm.model_copy(deep=True)
    strong.figures["laser_power_kw"] = strong.figures["laser_power_kw"].model_copy(update={"value": 100.0})
    assert mod.dwell_time_s(strong, r) == pytest.approx(mod.dwell_time_s(sysm, r) / 2, rel=1e-12)

    w = compile_world(iadsim.load_scenario("laser-1km.yaml", catalog=cat))
    assert w.ready[0] == 10            # 5 MJ / (50 kW x 10 s)
    ok = w.pip_ok[:, 0, 0]
    assert ok.any()
    t = np.flatnonzero(ok)
    # time to effect = acquisition + dwell at the PIP, within a step (dt = 1 s)
    want = np.ceil(2.0 + mod.dwell_time_s(sysm, w.pip_r[t, 0, 0].astype(float)) - 1e-6)
    assert np.all(np.abs(w.tof[t, 0, 0] - want) <= 1)
    # Pk factor = exp(-dwell / hold), falling with range
    np.testing.assert_allclose(w.pk_geo[t, 0, 0],
                               np.exp(-mod.dwell_time_s(sysm, w.pip_r[t, 0, 0].astype(float)) / 20.0), rtol=1e-5)
    order = np.argsort(w.pip_r[t, 0, 0])
    assert np.all(np.diff(w.pk_geo[t, 0, 0][order]) <= 1e-7)
    # no intercept beyond the dwell limit
    assert np.all(w.tof[t, 0, 0] <= 2.0 + 10.0 + 1)


def test_full_fidelity_refuses_the_laser_with_a_clear_error(worked_example):
    import iadsim
    import yaml
    from iadsim.engine import compile_world
    from iadsim.errors import InputError

    data = yaml.safe_load(open("laser-demo.yaml"))
    data["simulation"]["fidelity"] = "full"
    Path("laser-full.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="fidelity"):
        compile_world(iadsim.load_scenario("laser-full.yaml", catalog=load_catalog("catalog")))


def test_the_registry_picks_the_bundled_types():
    from iadsim.effectors import effector_for, weapon_type

    cat = load_catalog()
    assert weapon_type(cat["gepard"]) == "gun" and weapon_type(cat["zsu_23_4_shilka"]) == "gun"
    for name in ("tor_m2", "pantsir_s1", "s_400_48n6", "manpads_fim_92_stinger"):
        assert weapon_type(cat[name]) == "missile"
    with pytest.raises(KeyError):
        effector_for(cat["shahed_136"])


def test_register_needs_a_weapon_type_and_a_later_type_is_tried_first():
    from iadsim.effectors import REGISTRY, effector_for, register
    from iadsim.effectors.gun import Gun

    with pytest.raises(ValueError, match="weapon_type"):
        register(type("Nameless", (Gun,), {"weapon_type": ""}))
    before = dict(REGISTRY)
    try:
        register(type("AllGuns", (Gun,), {"weapon_type": "all_guns", "applies": classmethod(lambda c, s: True)}))
        assert effector_for(load_catalog()["tor_m2"]).weapon_type == "all_guns"
    finally:
        REGISTRY.clear()
        REGISTRY.update(before)
    assert effector_for(load_catalog()["tor_m2"]).weapon_type == "missile"


def test_the_worked_example_runs_from_the_command_line(worked_example, capsys):
    """The page's commands: --plugin registers the laser, --catalog adds its entry; the outputs count
    the unit's shots as the type names them ("laser dwells"), the rebuild needs the same plugin."""
    import json
    import shlex

    import pyarrow.parquet as pq

    from iadsim.cli import main
    from iadsim.plugins import LOADED

    ns, d = worked_example
    block = next(code for lang, code in _blocks() if lang == "console" and "--plugin laser_effector.py" in code)
    loaded = dict(LOADED)
    try:
        lines = [ln for ln in block.splitlines() if ln.strip()]
        assert len(lines) == 2
        for line in lines:
            assert main(shlex.split(line)[1:]) == 0, line
        out = capsys.readouterr()
        assert "laser dwells" in out.out and "effector type 'laser'" in out.err
        run = d / "laser-run"
        assert "laser dwells" in (run / "report.html").read_text() and "laser dwells" in (run / "run.czml").read_text()
        assert json.loads((run / "run.json").read_text())["inputs"]["plugins"][0]["path"].endswith("laser_effector.py")
        assert pq.read_table(run / "replications.parquet").num_rows == 50
    finally:
        LOADED.clear()
        LOADED.update(loaded)
        sys.modules.pop("iadsim_plugin_laser_effector", None)
