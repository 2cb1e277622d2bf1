"""The compiled kernels take typed records (iadsim.engine.records), never index-packed arrays: every
field a record declares is read by a kernel under that name, every field a kernel reads is declared,
and the Python side fills every record with the declared fields and scalar types."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import numpy as np
import pytest
import yaml

import iadsim
from conftest import REPO
from iadsim.engine import records as R
from iadsim.engine.full import TRACK_STATS

ENGINE = REPO / "src" / "iadsim" / "engine"

#: each kernel function and the record type behind each of its record parameters
KERNEL_PARAMS = {
    ("kernel.py", "_run_one"): {"w": R.WorldArrays, "p": R.ParamArrays, "o": R.Outputs, "ew": R.EWArrays,
                                "ds": R.DefStateArrays, "sc": R.ScootArrays, "react": R.ReactionArrays,
                                "gun": R.GunArrays, "site": R.SiteArrays},
    ("full.py", "_run_one_full"): {"cfg": R.Settings, "w": R.FullWorldArrays, "p": R.ParamArrays, "o": R.Outputs,
                                   "ew": R.EWArrays, "ds": R.DefStateArrays, "sc": R.ScootArrays,
                                   "react": R.ReactionArrays, "site": R.SiteArrays, "gun": R.GunArrays},
    ("full.py", "_visible"): {"grid": R.TerrainGrid},
}
#: records a kernel builds itself into a local of this name
LOCALS = {("full.py", "_run_one_full"): {"grid": R.TerrainGrid}}


def _function(module: str, name: str) -> ast.FunctionDef:
    tree = ast.parse((ENGINE / module).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise AssertionError(f"no function {name} in engine/{module}")


def _reads(fn: ast.FunctionDef, params: dict, local: dict | None = None) -> dict[type, set[str]]:
    """{record type: fields read as ``param.field`` (or ``local.field``)} in ``fn``'s body."""
    args = [a.arg for a in fn.args.args]
    missing = set(params) - set(args)
    assert not missing, f"{fn.name} has no parameters {missing} (its record arguments changed?)"
    params = {**params, **(local or {})}
    out: dict[type, set[str]] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in params:
            out.setdefault(params[node.value.id], set()).add(node.attr)
    return out


def _all_reads() -> dict[type, set[str]]:
    reads: dict[type, set[str]] = {}
    for (module, name), params in KERNEL_PARAMS.items():
        for rec, fields in _reads(_function(module, name), params, LOCALS.get((module, name))).items():
            reads.setdefault(rec, set()).update(fields)
    return reads


def test_every_record_type_is_taken_by_a_kernel():
    taken = {rec for params in KERNEL_PARAMS.values() for rec in params.values()}
    assert taken == set(R.RECORDS)


@pytest.mark.parametrize("rec", R.RECORDS, ids=lambda r: r.__name__)
def test_every_field_is_read_by_a_kernel_under_its_name(rec):
    read = _all_reads().get(rec, set())
    unread = [f for f in rec._fields if f not in read]
    assert not unread, f"{rec.__name__} fields no kernel reads: {unread}"


def test_every_field_a_kernel_reads_is_declared():
    for (module, name), params in KERNEL_PARAMS.items():
        for rec, fields in _reads(_function(module, name), params, LOCALS.get((module, name))).items():
            # record methods (_replace ...) are not fields; a kernel reads fields only
            unknown = sorted(f for f in fields if f not in rec._fields)
            assert not unknown, f"engine/{module}:{name} reads {unknown} that {rec.__name__} does not declare"


def test_no_index_packed_settings_left():
    src = (ENGINE / "full.py").read_text(encoding="utf-8") + (ENGINE / "kernel.py").read_text(encoding="utf-8")
    for packed in ("fpar", "ipar"):
        assert packed not in src


def test_the_reads_check_would_catch_an_unread_or_misspelt_field():
    # a record with one more field than the kernel reads, and a kernel reading a misspelt field
    class Extra(typing.NamedTuple):
        nsteps: int
        never_read: np.ndarray

    fn = ast.parse("def k(w):\n    a = w.nsteps\n    b = w.first_stepp\n").body[0]
    read = _reads(fn, {"w": Extra})[Extra]
    assert [f for f in Extra._fields if f not in read] == ["never_read"]
    assert sorted(f for f in read if f not in Extra._fields) == ["first_stepp"]


def test_a_missing_or_misspelt_field_is_an_error_on_the_python_side():
    good = dict(site_of=np.zeros(0, np.int64), site_p=np.zeros(0), arm_steps=np.zeros(0, np.int64),
                site_repair=np.zeros(2, np.int64))
    assert R.SiteArrays(**good).site_repair.shape == (2,)
    with pytest.raises(TypeError):
        R.SiteArrays(**{k: v for k, v in good.items() if k != "arm_steps"})
    with pytest.raises(TypeError):
        R.SiteArrays(**{**good, "site_reapir": good["site_repair"]})


# --- the records the Python side builds for real runs -------------------------------------------------

def _check_types(rec) -> None:
    hints = typing.get_type_hints(type(rec), globalns=vars(R))
    for name, want in hints.items():
        v = getattr(rec, name)
        where = f"{type(rec).__name__}.{name}"
        if isinstance(want, type) and issubclass(want, tuple):   # a nested record
            assert isinstance(v, want), f"{where}: {type(v).__name__}, expected {want.__name__}"
            _check_types(v)
        elif want is np.ndarray:
            assert isinstance(v, np.ndarray), f"{where}: {type(v).__name__}, expected an array"
        elif want is bool:
            assert isinstance(v, (bool, np.bool_)), f"{where}: {type(v).__name__}, expected bool"
        elif want is int:
            assert isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)), \
                f"{where}: {type(v).__name__}, expected int"
        elif want is float:
            assert isinstance(v, (float, np.floating)), f"{where}: {type(v).__name__}, expected float"
        else:
            raise AssertionError(f"{where}: unexpected annotation {want}")


def _captured(monkeypatch, ld) -> tuple:
    """The arguments simulate_chunk hands to the kernel (a stand-in that records them)."""
    import iadsim.engine as eng
    import iadsim.engine.full as full
    from iadsim.engine import compile_world, simulate_chunk

    got = []

    def fake(*args):
        got.append(args)
        return 0

    for mod, name in ((eng, "run_chunk"), (eng, "run_chunk_serial"), (full, "run_chunk_full"),
                      (full, "run_chunk_full_serial")):
        monkeypatch.setattr(mod, name, fake)
    simulate_chunk(compile_world(ld), 5, 0, 3, record_rep=0)
    assert len(got) == 1
    return got[0]


def _example(name: str, fidelity: str):
    from iadsim.scenario import scenario_from_dict

    path = REPO / "examples" / name / "scenario.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["simulation"]["fidelity"] = fidelity
    return scenario_from_dict(data, source=str(path), base_dir=path.parent)


FAST = (R.WorldArrays, R.ParamArrays, R.Outputs, R.EWArrays, R.DefStateArrays, R.ScootArrays, R.ReactionArrays,
        R.GunArrays, R.SiteArrays)
FULL = (R.Settings, R.FullWorldArrays, R.ParamArrays, R.Outputs, R.EWArrays, R.DefStateArrays, R.ScootArrays,
        R.ReactionArrays, R.SiteArrays, R.GunArrays)


@pytest.mark.parametrize("fidelity", ["fast", "full"])
@pytest.mark.parametrize("name", ["capital-whatif", "shoot-and-scoot", "sead-strike", "jamming-escort"])
def test_simulate_chunk_passes_typed_records(monkeypatch, name, fidelity):
    args = _captured(monkeypatch, _example(name, fidelity))
    keys, local, policy, *recs = args
    assert keys.shape == (3, 2) and local == 0 and isinstance(policy, int)
    assert tuple(type(r) for r in recs) == (FAST if fidelity == "fast" else FULL)
    for rec in recs:
        _check_types(rec)
    by = {type(r): r for r in recs}
    # per-replication records carry the chunk's 3 replications on their leading axis
    for f in ("pk1", "ready0", "snr_scale", "pfa", "js_scale"):
        assert getattr(by[R.ParamArrays], f).shape[0] == 3
    for f in ("det_step", "expended", "radiating", "bursts"):
        assert getattr(by[R.Outputs], f).shape[0] == 3
    assert by[R.ScootArrays].sc_on == (name == "shoot-and-scoot")
    if fidelity == "full":
        cfg = by[R.Settings]
        assert cfg.xmin < cfg.xmax and cfg.ymin < cfg.ymax and cfg.res > 0 and cfg.nsteps > 0
        assert by[R.Outputs].stats.shape == (3, len(TRACK_STATS))
    else:
        assert by[R.Outputs].stats.shape == (3, 0)


def test_reacting_threats_and_guns_fill_their_records(monkeypatch, small_dir):
    # reacting threats (iadsim.engine.react) and a gun-missile unit (Pantsir-S1: iadsim.engine.mixed)
    d = yaml.safe_load((small_dir / "scenario.yaml").read_text(encoding="utf-8"))
    d["threats"][1]["reaction"] = {"on": "launch", "action": "abort", "delay_s": 0.0, "branch_every_s": 5.0}
    p = small_dir / "react.yaml"
    p.write_text(yaml.safe_dump(d), encoding="utf-8")
    _, _, _, *recs = _captured(monkeypatch, iadsim.load_scenario(p))
    by = {type(r): r for r in recs}
    for rec in recs:
        _check_types(rec)
    assert by[R.ReactionArrays].rx_on is True
    assert (by[R.GunArrays].gun_of >= 0).any()
