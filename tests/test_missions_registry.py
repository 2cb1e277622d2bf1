"""Threat behaviours as a registry: the scenario's mission kinds, their checks and fields, the
sortie dispatch, the JSON schema and the mission tables' words all come from
``iadsim.missions.registry``; an unknown kind is an input error naming the field and the kinds."""

from __future__ import annotations

import json

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from conftest import small_scenario_dict
from iadsim.cli import main
from iadsim.errors import InputError
from iadsim.missions import MISSION_KINDS, MISSIONS, MissionKind, plan_sortie, register
from iadsim.scenario.loader import json_schema, parse_scenario


def _with_mission(mission: dict, **threat) -> dict:
    d = small_scenario_dict()
    d["threats"] = [{"name": "m", "type": "mq_9_reaper", "altitude_m": 3000,
                     "route": [{"lat": 10.39, "lon": 20.01}], "mission": mission, **threat}]
    return d


@pytest.fixture()
def scratch_kind():
    """A kind registered for one test (with a field of its own), unregistered afterwards."""

    class Hold(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        seconds: float = Field(gt=0.0, description="how long it holds [s]")

    class Fields(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        hold: Hold

    @register
    class Scratch(MissionKind):
        kind = "scratch"
        accomplished = "the hold flown"
        accomplished_by = "station"
        returns = True
        params = Fields

        def plan(self, thr, ctx):
            return ("planned by scratch", thr.mission.params.hold.seconds, ctx)

    try:
        yield Scratch
    finally:
        MISSIONS.pop("scratch", None)
        MISSION_KINDS.pop("scratch", None)


def test_the_bundled_kinds_are_registered_with_their_words():
    assert MISSION_KINDS == {"isr": "the whole time on station flown", "strike": "the weapons released",
                             "one-way": "the target reached", "sead": "the weapons released"}
    assert set(MISSIONS) == set(MISSION_KINDS)
    rules = {k: m.accomplished_by for k, m in MISSIONS.items()}
    assert rules == {"isr": "station", "strike": "release", "sead": "release", "one-way": "arrival"}
    assert {k for k, m in MISSIONS.items() if m.returns} == {"isr", "strike", "sead"}
    assert {k for k, m in MISSIONS.items() if m.releases} == {"strike", "sead"}
    schema = json.loads(json_schema())["$defs"]["Mission"]
    assert schema["properties"]["kind"]["enum"] == sorted(MISSIONS)
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("kind, hint", [("ir", "did you mean 'isr'?"), ("loiter", "")])
def test_an_unknown_kind_names_the_field_and_the_registered_kinds(kind, hint):
    with pytest.raises(InputError) as exc:
        parse_scenario(_with_mission({"kind": kind}), "s.yaml")
    (p,) = exc.value.problems
    assert p.file == "s.yaml" and p.path == "threats[0].mission.kind"
    assert "unknown mission kind" in p.message and "isr, one-way, sead, strike" in p.message
    assert hint in p.message and f"(got {kind!r})" in p.message


def test_an_unknown_kind_exits_2_on_the_command_line_and_writes_nothing(small_dir, tmp_path, capsys):
    bad = small_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump(_with_mission({"kind": "recon"})))
    out = tmp_path / "never"
    assert main(["run", str(bad), "-n", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "threats[0].mission.kind" in err and "unknown mission kind" in err, err
    assert "isr, one-way, sead, strike" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["validate", str(bad)]) == 2


def test_a_bundled_kind_refuses_a_field_it_does_not_have():
    mission = {"kind": "isr", "station": {"lat": 10.2, "lon": 20.2}, "time_on_station_s": 600, "hold": 3}
    with pytest.raises(InputError) as exc:
        parse_scenario(_with_mission(mission), "s.yaml")
    assert [(p.path, "unknown field" in p.message) for p in exc.value.problems] == [("threats[0].mission.hold", True)]


def test_a_registered_kind_is_validated_planned_and_in_the_schema(scratch_kind):
    scn = parse_scenario(_with_mission({"kind": "scratch", "hold": {"seconds": 30.0}}), "s.yaml")
    thr = scn.threats[0]
    assert thr.mission.params.hold.seconds == 30.0
    assert plan_sortie(thr, "ctx") == ("planned by scratch", 30.0, "ctx")   # the registry dispatches
    assert MISSION_KINDS["scratch"] == "the hold flown"
    # its own fields: strict, with their path
    with pytest.raises(InputError) as exc:
        parse_scenario(_with_mission({"kind": "scratch", "hold": {"seconds": "30"}}), "s.yaml")
    assert [p.path for p in exc.value.problems] == ["threats[0].mission.hold.seconds"]
    with pytest.raises(InputError) as exc:
        parse_scenario(_with_mission({"kind": "scratch"}), "s.yaml")
    assert [p.path for p in exc.value.problems] == ["threats[0].mission.hold"]
    # a returning kind: no threats[].target; the schema lists the kind and its field
    with pytest.raises(InputError, match="returns from its sortie"):
        parse_scenario(_with_mission({"kind": "scratch", "hold": {"seconds": 1.0}}, target="base"), "s.yaml")
    schema = json.loads(json_schema())
    props = schema["$defs"]["Mission"]["properties"]
    assert "scratch" in props["kind"]["enum"] and "hold" in props
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(_with_mission({"kind": "scratch", "hold": {"seconds": 1.0}}), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_with_mission({"kind": "scratch", "hold": {"seconds": 1.0}, "holdd": 1}), schema)


def test_register_refuses_an_incomplete_kind():
    class NoKind(MissionKind):
        accomplished = "x"

        def plan(self, thr, ctx):
            return None

    class BadRule(NoKind):
        kind = "bad-rule"
        accomplished_by = "whenever"

    class Clash(NoKind):
        kind = "clash"

        class params(BaseModel):   # noqa: N801 - a kind's fields may not reuse the shared ones
            station: float = 1.0

    for cls, words in ((NoKind, "has no kind"), (BadRule, "accomplished_by"), (Clash, "station")):
        with pytest.raises(ValueError, match=words):
            register(cls)
    assert not {"bad-rule", "clash"} & set(MISSIONS)


def test_each_kind_in_use_states_what_it_leaves_out():
    from iadsim.missions.registry import mission_model_texts

    assert all(m.model_text for m in MISSIONS.values())
    d = _with_mission({"kind": "isr", "station": {"lat": 10.2, "lon": 20.2}, "time_on_station_s": 600})
    d["threats"].append({"name": "owa", "type": "shahed_136", "target": "base",
                         "route": [{"lat": 10.36, "lon": 20.05}, {"lat": 10.30, "lon": 20.12}]})
    texts = mission_model_texts(parse_scenario(d, "s.yaml"))
    # a threat with a target and no mission flies the one-way plan, and says so
    assert set(texts) == {"mission_isr", "mission_one-way"}
    assert texts["mission_isr"].endswith("(threats: m)") and "Leaves out wind" in texts["mission_isr"]
    assert texts["mission_one-way"].endswith("(threats: owa)") and "2 km" in texts["mission_one-way"]
