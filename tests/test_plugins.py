"""User plugins (iadsim.plugins): Python files named on the command line (--plugin) or by a scenario
(plugins:, run only with --allow-plugins), extra catalog folders (--catalog, catalog_folders:), the
input errors of each, and the labels outputs take from the registered types (a sensor type's
display_name, an effector type's shot_name)."""

from __future__ import annotations

import json
import sys
import zipfile

import pyarrow.parquet as pq
import pytest
import yaml

from conftest import small_scenario_dict
from iadsim.cli import main
from iadsim.errors import InputError

#: a weapon type for the tests: the Tor's missiles under another name (same model, so same numbers)
TOR_PLUGIN = '''
from iadsim.effectors import register
from iadsim.effectors.missile import Missile


@register
class TorRounds(Missile):
    weapon_type = "tor_rounds"
    shot_name = "test rounds"

    @classmethod
    def applies(cls, system):
        return system.name == "tor_m2"
'''


@pytest.fixture(autouse=True)
def _registries_restored():
    """Each test's plugins are its own: registries, loaded files and modules put back afterwards."""
    from iadsim.catalog.models import SENSOR_TYPE_FIGURES
    from iadsim.effectors import REGISTRY
    from iadsim.plugins import LOADED
    from iadsim.sensors import SENSOR_TYPES

    saved = dict(REGISTRY), dict(SENSOR_TYPES), dict(SENSOR_TYPE_FIGURES), dict(LOADED), set(sys.modules)
    yield
    for live, old in zip((REGISTRY, SENSOR_TYPES, SENSOR_TYPE_FIGURES, LOADED), saved):
        live.clear()
        live.update(old)
    for name in set(sys.modules) - saved[4]:
        if name.startswith("iadsim_plugin_"):
            del sys.modules[name]


def _cli(*args: str) -> int:
    return main(list(args))


# --- loading a file ---------------------------------------------------------------------------------

def test_a_plugin_runs_once_and_says_what_it_registered(tmp_path):
    from iadsim.effectors import REGISTRY
    from iadsim.plugins import load_plugin

    f = tmp_path / "tor_rounds.py"
    f.write_text(TOR_PLUGIN)
    p = load_plugin(f)
    assert "tor_rounds" in REGISTRY and p.registered == ("effector type 'tor_rounds'",)
    assert p.module == "iadsim_plugin_tor_rounds" and len(p.sha256) == 64
    assert load_plugin(f) is p                       # the same file and content: not run again
    f.write_text(TOR_PLUGIN.replace("test rounds", "other rounds"))
    assert load_plugin(f).sha256 != p.sha256          # changed: run again
    assert REGISTRY["tor_rounds"].shot_name == "other rounds"


@pytest.mark.parametrize("name, text, message, line", [
    ("missing.py", None, "plugin file not found", None),
    ("notes.txt", "x = 1\n", "not a Python file", None),
    ("broken.py", "x = 1\ndef f(:\n    pass\n", "not valid Python", "line 2"),
    ("raising.py", "import math\n\nraise RuntimeError('no licence file')\n", "RuntimeError while it was loaded: "
                                                                               "no licence file", "line 3"),
    ("exiting.py", "import sys\nsys.exit(3)\n", "SystemExit", "line 2"),
    ("importing.py", "import iadsim_no_such_package\n", "ModuleNotFoundError", "line 1"),
])
def test_a_bad_plugin_is_an_input_error_naming_the_file(tmp_path, name, text, message, line):
    from iadsim.plugins import load_plugin

    f = tmp_path / name
    if text is not None:
        f.write_text(text)
    with pytest.raises(InputError) as e:
        load_plugin(f)
    assert name in str(e.value) and message in str(e.value), str(e.value)
    if line:
        assert f"{name}: {line}:" in str(e.value)
    assert f"iadsim_plugin_{name[:-3]}" not in sys.modules      # a failed module is not left behind


def test_a_folder_is_not_a_plugin(tmp_path):
    from iadsim.plugins import load_plugin

    with pytest.raises(InputError, match="not a file"):
        load_plugin(tmp_path)


# --- the scenario's plugins: and catalog_folders: ----------------------------------------------------

def _scenario_with_plugin(small_dir, **extra) -> tuple:
    (small_dir / "tor_rounds.py").write_text(TOR_PLUGIN)
    data = small_scenario_dict()
    data.update(extra)
    path = small_dir / "with-plugin.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, data


def test_a_scenario_runs_no_code_unless_allowed(small_dir):
    import iadsim
    from iadsim.effectors import REGISTRY

    path, _ = _scenario_with_plugin(small_dir, plugins=["tor_rounds.py"])
    with pytest.raises(InputError) as e:
        iadsim.load_scenario(path)
    msg = str(e.value)
    assert "with-plugin.yaml: plugins[0]" in msg and "--allow-plugins" in msg
    assert "tor_rounds" not in REGISTRY                        # refused: the file never ran
    ld = iadsim.load_scenario(path, allow_plugins=True)
    assert "tor_rounds" in REGISTRY and [p.path.name for p in ld.plugins] == ["tor_rounds.py"]


def test_a_scenario_plugin_named_on_the_command_line_needs_no_permission(small_dir):
    import iadsim

    path, _ = _scenario_with_plugin(small_dir, plugins=["tor_rounds.py"])
    ld = iadsim.load_scenario(path, plugins=[small_dir / "tor_rounds.py"])
    assert len(ld.plugins) == 1
    # ... but only that file: another one the scenario names is still refused
    (small_dir / "other.py").write_text("x = 1\n")
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), "plugins": ["tor_rounds.py", "other.py"]}))
    with pytest.raises(InputError, match=r"plugins\[1\]"):
        iadsim.load_scenario(path, plugins=[small_dir / "tor_rounds.py"])


def test_scenario_plugins_and_catalog_folders_are_relative_to_the_file(small_dir):
    import iadsim

    (small_dir / "cat").mkdir()
    entry = yaml.safe_load((__import__("iadsim").catalog.builtin_dir() / "tor_m2.yaml").read_text())
    entry["name"], entry["display_name"], entry["aliases"] = "tor_copy", "Tor copy (test)", []
    (small_dir / "cat" / "tor_copy.yaml").write_text(yaml.safe_dump(entry))
    path, data = _scenario_with_plugin(small_dir, plugins=["tor_rounds.py"], catalog_folders=["cat"])
    data["effectors"][0]["system"] = "tor_copy"
    path.write_text(yaml.safe_dump(data))
    ld = iadsim.load_scenario(path, allow_plugins=True)
    assert "tor_copy" in ld.catalog and ld.scenario.catalog_folders == ["cat"]
    # an empty plugins list dumps as before: the scenario's hash is unchanged without plugins
    assert "plugins" not in iadsim.load_scenario(small_dir / "scenario.yaml").scenario.model_dump()
    data["catalog_folders"] = ["nowhere"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"catalog_folders\[0\]: catalog folder not found"):
        iadsim.load_scenario(path, allow_plugins=True)


# --- the command line ------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--plugin", "missing.py"], "--plugin missing.py: plugin file not found"),
    (["--plugin", "broken.py"], "broken.py: line 1: plugin is not valid Python"),
    (["--plugin", "raising.py"], "raising.py: line 1: plugin raised ValueError"),
    (["--catalog", "nowhere"], "--catalog nowhere: catalog folder not found"),
    (["--catalog", "dem.tif"], "is not a folder"),
])
def test_cli_bad_plugin_exit_2_and_writes_nothing(small_dir, tmp_path, capsys, args, message):
    (small_dir / "broken.py").write_text("def f(:\n")
    (small_dir / "raising.py").write_text("raise ValueError('bad plugin')\n")
    out = tmp_path / "never"
    import os

    here = os.getcwd()
    os.chdir(small_dir)
    try:
        rc = _cli("run", "scenario.yaml", "-n", "4", "--out", str(out), *args)
        err = capsys.readouterr().err
        assert rc == 2 and message in err and "Traceback" not in err, err
        assert not out.exists()
        assert _cli("validate", "scenario.yaml", *args) == 2
    finally:
        os.chdir(here)


def test_cli_refuses_a_scenarios_plugins_without_allow_plugins(small_dir, tmp_path, capsys):
    path, _ = _scenario_with_plugin(small_dir, plugins=["tor_rounds.py"])
    out = tmp_path / "never"
    assert _cli("run", str(path), "-n", "4", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "plugins[0]" in err and "--allow-plugins" in err and not out.exists()
    assert _cli("validate", str(path), "--allow-plugins") == 0
    assert "tor_rounds.py" in capsys.readouterr().err        # a plugin that ran is named on stderr


def test_cli_run_with_a_plugin_names_its_shots_and_rebuilds_only_with_it(small_dir, tmp_path, capsys):
    """The plugin's weapon type is the Tor's missile under another name: the numbers are those of a
    run without it; the outputs name the Tor's shots as the type does."""
    (small_dir / "tor_rounds.py").write_text(TOR_PLUGIN)
    a, b = tmp_path / "plain", tmp_path / "plugin"
    scen = str(small_dir / "scenario.yaml")
    assert _cli("run", scen, "-n", "12", "--seed", "5", "--out", str(a), "-q") == 0
    assert _cli("run", scen, "-n", "12", "--seed", "5", "--out", str(b), "--plugin",
                str(small_dir / "tor_rounds.py")) == 0
    shown = capsys.readouterr()
    assert "test rounds" in shown.out and "effector type 'tor_rounds'" in shown.err
    assert pq.read_table(a / "replications.parquet").equals(pq.read_table(b / "replications.parquet"))
    info = json.loads((b / "run.json").read_text())
    assert [p["path"] for p in info["inputs"]["plugins"]] == [str((small_dir / "tor_rounds.py").resolve())]
    assert "plugins" not in json.loads((a / "run.json").read_text())["inputs"]
    kml = zipfile.ZipFile(b / "run.kmz").read("doc.kml").decode()
    assert "ready test rounds" in kml and "Test rounds fired per replication" in kml
    assert "ready missiles" in kml                           # the Pantsir's are still missiles
    html = (b / "report.html").read_text()
    assert "Shots expended" in html and "test rounds" in html and "user plugins" in html
    # a rebuild compiles the world again: it needs the plugin, and says so
    from iadsim.plugins import LOADED

    LOADED.clear()
    assert _cli("export", str(b), "--no-kml") == 2
    err = capsys.readouterr().err
    assert "inputs.plugins[0]" in err and "--plugin" in err and "Traceback" not in err
    assert _cli("export", str(b), "--no-kml", "--plugin", str(small_dir / "tor_rounds.py")) == 0


# --- labels --------------------------------------------------------------------------------------

def test_sensor_and_weapon_labels_of_the_bundled_types():
    from iadsim.catalog import load_catalog
    from iadsim.effectors import effector_for
    from iadsim.export.czml import _lower_first
    from iadsim.sensors import sensor_display_name

    cat = load_catalog()
    by_type = {}
    for s in cat.values():
        if s.kind == "sensor":
            by_type[s.sensor_type or "radar"] = sensor_display_name(s)
    assert by_type.pop("radar", "Radar") == "Radar"
    assert by_type == {"esm": "ESM receiver", "eo": "Electro-optical sensor"}
    assert sensor_display_name(cat["tor_m2"]) == "Radar"      # a fire unit's organic sensor
    unknown = cat["tor_m2"].model_copy(update={"kind": "sensor", "sensor_type": "sonar"})
    assert sensor_display_name(unknown) == "sonar"
    assert effector_for(cat["gepard"]).shots() == "bursts" and effector_for(cat["tor_m2"]).shots() == "missiles"
    assert [_lower_first(x) for x in ("Radar", "ESM receiver", "Electro-optical sensor")] == [
        "radar", "ESM receiver", "electro-optical sensor"]


def test_shot_names_default_and_fallback():
    import numpy as np

    from iadsim.effectors import shot_names
    from iadsim.effectors.missile import Missile

    assert type("Net", (Missile,), {"weapon_type": "net", "shot_name": ""}).shots() == "net shots"

    class Bare:   # a world without its scenario: gun units fire bursts, the others missiles
        effector_system = ["a", "b"]
        effector_gun = np.array([True, False])

    assert shot_names(Bare()) == ["bursts", "missiles"]


def test_workers_load_the_parents_plugins_and_refuse_a_changed_file(tmp_path):
    from iadsim.plugins import LOADED, load_in_worker, load_plugin

    f = tmp_path / "tor_rounds.py"
    f.write_text(TOR_PLUGIN)
    p = load_plugin(f)
    LOADED.clear()                      # as a fresh worker process
    load_in_worker([p])
    assert LOADED[f.resolve()].sha256 == p.sha256
    LOADED.clear()
    f.write_text(TOR_PLUGIN + "\n# edited\n")
    with pytest.raises(InputError, match="changed while the run was going"):
        load_in_worker([p])


def test_a_worker_process_registers_the_worlds_plugins(small_dir):
    """What a local worker does first (iadsim.montecarlo._init_with_world): load the plugins of the
    world it is handed, so that a spawned process knows the user's types."""
    import iadsim
    from iadsim.effectors import REGISTRY
    from iadsim.montecarlo import _init_with_world
    from iadsim.plugins import LOADED

    path, _ = _scenario_with_plugin(small_dir, plugins=["tor_rounds.py"])
    ld = iadsim.load_scenario(path, allow_plugins=True)

    class World:   # the part of a World the worker reads
        loaded = ld

    import numba

    import iadsim.montecarlo as mc

    LOADED.clear()
    REGISTRY.pop("tor_rounds")
    threads, world = numba.get_num_threads(), mc._WORLD
    try:
        _init_with_world(World())
    finally:   # this process is no worker: its threads and world as they were
        numba.set_num_threads(threads)
        mc._WORLD = world
    assert "tor_rounds" in REGISTRY and list(LOADED) == [(small_dir / "tor_rounds.py").resolve()]


def test_a_ray_sweep_refuses_plugins(small_dir, tmp_path, capsys):
    (small_dir / "tor_rounds.py").write_text(TOR_PLUGIN)
    out = tmp_path / "never"
    rc = _cli("sweep", str(small_dir / "scenario.yaml"), "--vary", "simulation.dt_s=1,2", "--backend", "ray",
              "--plugin", str(small_dir / "tor_rounds.py"), "--out", str(out))
    err = capsys.readouterr().err
    assert rc == 2 and "--backend" in err and "Ray workers do not load plugins" in err, err
    assert not out.exists()


def test_a_ray_run_refuses_plugins_before_ray_starts(small_dir, tmp_path, capsys, monkeypatch):
    """`iadsim run --backend ray` with a plugin: refused like the Ray sweep (Ray workers never run
    the user's file), exit 2, nothing written, Ray never imported or started."""
    import iadsim
    from iadsim.montecarlo import ray_backend

    def no_ray(*a, **k):
        raise AssertionError("Ray was started")

    monkeypatch.setattr(ray_backend, "session", no_ray)
    monkeypatch.setitem(sys.modules, "ray", None)   # importing Ray now fails: the refusal comes first
    (small_dir / "tor_rounds.py").write_text(TOR_PLUGIN)
    out = tmp_path / "never"
    rc = _cli("run", str(small_dir / "scenario.yaml"), "--backend", "ray", "-n", "2",
              "--plugin", str(small_dir / "tor_rounds.py"), "--out", str(out))
    err = capsys.readouterr().err
    assert rc == 2 and "--backend" in err and "Ray workers do not load plugins" in err, err
    assert "Traceback" not in err and not out.exists()
    # Python: simulate() refuses it too, naming the argument
    ld = iadsim.load_scenario(small_dir / "scenario.yaml", plugins=[small_dir / "tor_rounds.py"])
    with pytest.raises(InputError) as exc:
        iadsim.simulate(ld, replications=2, backend="ray")
    assert [p.path for p in exc.value.problems] == ["backend"]


def test_a_plugin_that_registers_a_mission_kind_says_so(tmp_path):
    from iadsim.missions import MISSION_KINDS, MISSIONS
    from iadsim.plugins import load_plugin

    f = tmp_path / "hover.py"
    f.write_text("from iadsim.missions import register\nfrom iadsim.missions.oneway import OneWay\n\n\n"
                 "@register\nclass Hover(OneWay):\n    kind = 'hover-test'\n")
    try:
        assert load_plugin(f).registered == ("mission kind 'hover-test'",)
    finally:
        MISSIONS.pop("hover-test", None)
        MISSION_KINDS.pop("hover-test", None)
