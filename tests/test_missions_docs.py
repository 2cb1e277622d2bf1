"""docs/missions.md's worked example runs: its code blocks are written to a folder and run, and the
threat behaviour they add from outside iadsim (loiter, then dive) is registered, planned, used in a
scenario and changes the outcome in the right direction."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import REPO
from docblocks import doc_blocks, write_doc_files

DOC = REPO / "docs" / "missions.md"


def _blocks() -> list[tuple[str, str, str]]:
    return doc_blocks(DOC)


def test_worked_example_blocks_are_there():
    blocks = _blocks()
    files = [info.split("=", 1)[1] for _, info, _ in blocks if info.startswith("file=")]
    assert files == ["loiter.py", "loiter.yaml"]
    assert sum(info == "run" for _, info, _ in blocks) == 1
    module = next(body for _, info, body in blocks if info == "file=loiter.py")
    n = len(module.splitlines())
    assert f"`loiter.py` ({n} lines)" in DOC.read_text(encoding="utf-8"), n


@pytest.fixture()
def worked_example(tmp_path, monkeypatch, capsys):
    """Write the doc's file blocks into a folder and run its run block there; the example's kind is
    unregistered afterwards."""
    from iadsim.missions import MISSION_KINDS, MISSIONS

    run = write_doc_files(_blocks(), tmp_path).get("run")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    ns: dict = {}
    try:
        exec(compile(run, str(DOC), "exec"), ns)   # noqa: S102 - the doc's own example
        yield ns, capsys.readouterr().out
    finally:   # the example's kind is the test's own: leave the registry as it was
        MISSIONS.pop("loiter-dive", None)
        MISSION_KINDS.pop("loiter-dive", None)
        sys.modules.pop("loiter", None)


def test_worked_example_adds_a_behaviour_that_loiters_then_dives(worked_example):
    ns, out = worked_example
    res = ns["res"]   # the last run: 900 s on the circle
    w = res.world
    assert w.missions.kind == ["loiter-dive"] and w.missions.role == ["threat"]
    # direction of effect: longer inside the Gepard's envelope, less often at the depot
    reached, exposed = ns["reached"], ns["exposed"]
    assert reached[900] < reached[120], reached
    assert exposed[900] > exposed[120], exposed
    # the doc quotes what the run prints
    expected = next(body for lang, info, body in _blocks() if lang == "text" and "loiter 120 s" in body)
    assert out.strip() == expected.strip()
    # the planned path: the circle adds its time to the flight (the legs from where it leaves the
    # circle to the depot differ by at most the circle's diameter, 3 km at 50 m/s: 60 s), and the
    # sortie ends at the depot
    from iadsim.engine import compile_world
    from iadsim.scenario.variants import with_fields

    short = compile_world(with_fields(ns["ld"], {"threats[loiterer].mission.loiter.time_s": 120}))
    flown = lambda world: int(world.end_step[0] - world.first_step[0])  # noqa: E731
    assert abs((flown(w) - flown(short)) * w.dt - (900 - 120)) <= 3000.0 / 50.0 + 2 * w.dt
    end = int(w.end_step[0])
    assert np.hypot(*(w.pos[end - 1, 0, :2] - w.asset_xy[0])) < 60.0   # within one step of flight
    assert "mission_loiter-dive" in w.models and "leaves out" in w.models["mission_loiter-dive"]


def test_the_example_kind_checks_its_own_fields(worked_example, tmp_path):
    import yaml

    import iadsim
    from iadsim.errors import InputError

    data = yaml.safe_load((tmp_path / "loiter.yaml").read_text(encoding="utf-8"))
    cases = [({"time_s": -5}, "threats[0].mission.loiter.time_s", "greater than 0"),
             ({"time_s": 60, "radius": 2}, "threats[0].mission.loiter.radius", "unknown field")]
    for change, path, words in cases:
        d = yaml.safe_load(yaml.safe_dump(data))
        d["threats"][0]["mission"]["loiter"] = {"lat": -32.72, "lon": -70.708, **change}
        (tmp_path / "bad.yaml").write_text(yaml.safe_dump(d), encoding="utf-8")
        with pytest.raises(InputError) as exc:
            iadsim.load_scenario(tmp_path / "bad.yaml")
        assert [(p.path, words in p.message) for p in exc.value.problems] == [(path, True)], exc.value.problems
    d = yaml.safe_load(yaml.safe_dump(data))
    d["threats"][0]["orbit"] = {"lat": -32.72, "lon": -70.708, "radius_km": 1, "laps": 1}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(d), encoding="utf-8")
    with pytest.raises(InputError, match="give it no orbit"):
        iadsim.load_scenario(tmp_path / "bad.yaml")


def test_the_example_kind_runs_the_same_in_worker_processes(worked_example):
    """Worker processes get the compiled world (the kind's own fields as plain values), not the
    example's module: the same seed gives the same outcomes with one process or two."""
    import iadsim

    ns, _ = worked_example
    one = iadsim.simulate(ns["ld"], replications=8, workers=1)
    two = iadsim.simulate(ns["ld"], replications=8, workers=2, chunk_size=4)
    assert np.array_equal(one.raw.kill_step, two.raw.kill_step)
    assert np.array_equal(one.raw.leak_step, two.raw.leak_step)


@pytest.fixture()
def plugin_example(tmp_path, monkeypatch):
    """The doc's files in a folder, and its blocks for the plugin way; the plugin's kind, module and
    loaded file are the test's own (removed afterwards)."""
    from iadsim.missions import MISSION_KINDS, MISSIONS
    from iadsim.plugins import LOADED

    blocks = _blocks()
    write_doc_files(blocks, tmp_path)
    monkeypatch.chdir(tmp_path)
    loaded = dict(LOADED)
    try:
        yield tmp_path, blocks
    finally:
        MISSIONS.pop("loiter-dive", None)
        MISSION_KINDS.pop("loiter-dive", None)
        LOADED.clear()
        LOADED.update(loaded)
        sys.modules.pop("iadsim_plugin_loiter", None)


def test_the_example_kind_loaded_as_a_plugin_runs_in_sweep_worker_processes(plugin_example):
    """docs/missions.md's plugin way: `iadsim sweep --plugin loiter.py --workers 2` and
    `run_sweep(workers=2)` on a scenario loaded with plugins=: the workers run the plugin, know the
    kind, and give the numbers of a sweep in this process."""
    import shlex

    import pyarrow.parquet as pq

    from iadsim.cli import main
    from iadsim.montecarlo.sweep import run_sweep

    folder, blocks = plugin_example
    console = next(body for lang, _, body in blocks if lang == "console" and "--plugin loiter.py" in body)
    sweep = next(line for line in console.splitlines() if line.startswith("iadsim sweep"))
    args = shlex.split(sweep)[1:]
    assert args[args.index("--workers") + 1] == "2"
    assert main(args + ["-n", "6", "--quiet"]) == 0
    code = next(body for lang, info, body in blocks if lang == "python" and "run_sweep(" in body)
    ns: dict = {}
    exec(compile(code.replace('"loiter-sweep"', '"api-sweep"'), str(DOC), "exec"), ns)   # noqa: S102
    cols = ["cell", "threat", "p_accomplished", "p_loss"]
    cli = pq.read_table(folder / "loiter-sweep" / "missions.parquet").to_pandas()[cols]
    # the same plan in this process: the same numbers as in two workers
    assert ns["res"].cells_run == 2 and run_sweep(ns["plan"], folder / "one", workers=1).cells_run == 2
    api_two = pq.read_table(folder / "api-sweep" / "missions.parquet").to_pandas()
    api_one = pq.read_table(folder / "one" / "missions.parquet").to_pandas()
    assert len(api_two) == 2 and api_two.equals(api_one), (api_two, api_one)
    assert list(cli.cell) == [0, 1] and set(cli.threat) == {"loiterer"}
    # direction of effect, as in the single runs: the longer loiter is accomplished less often
    assert cli.p_accomplished.iloc[1] <= cli.p_accomplished.iloc[0]
