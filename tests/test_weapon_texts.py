"""The run's 'flyout' and 'kill' assumption texts come from the weapon types its fire units fire
(each Effector states its own part), and the per-threat shot counts name what they add up."""

from __future__ import annotations

import pytest
import yaml

from conftest import small_scenario_dict
from iadsim.effectors import REGISTRY, Effector, shots_label
from iadsim.effectors.base import NO_FIRE_UNITS, weapon_model_text, weapon_types_in_use
from iadsim.engine.world import FULL_MODELS, MODELS_USED

GEPARD = {"name": "gun", "system": "gepard", "site": {"lat": 10.2, "lon": 20.2}}


def _load(small_dir, effectors):
    import iadsim

    data = small_scenario_dict()
    data["effectors"] = effectors
    p = small_dir / "w.yaml"
    p.write_text(yaml.safe_dump(data))
    return iadsim.load_scenario(p)


def test_the_bundled_parts_join_into_the_published_texts():
    """Missiles and guns together: exactly the texts iadsim printed before the parts were split (the
    public MODELS_USED); missiles at full fidelity: FULL_MODELS."""
    missile, gun = REGISTRY["missile"], REGISTRY["gun"]
    for key in ("flyout", "kill"):
        assert weapon_model_text([missile, gun], key) == MODELS_USED[key]
        assert weapon_model_text([missile], key, "full") == FULL_MODELS[key]
        assert weapon_model_text([gun], key).startswith("Gun fire units")
        assert weapon_model_text([], key) == NO_FIRE_UNITS


def test_the_texts_follow_the_weapon_types_in_use(small_dir):
    data = small_scenario_dict()
    tor, pantsir = data["effectors"]
    names = lambda ld: [c.weapon_type for c in weapon_types_in_use(ld)]  # noqa: E731
    assert names(_load(small_dir, [tor])) == ["missile"]
    assert names(_load(small_dir, [pantsir])) == ["missile", "gun"]   # a gun-missile unit's guns
    assert names(_load(small_dir, [GEPARD, tor])) == ["missile", "gun"]   # registration order
    assert names(_load(small_dir, [GEPARD])) == ["gun"]
    assert names(_load(small_dir, [])) == []


def test_a_compiled_run_without_guns_says_nothing_of_guns(small_dir):
    from iadsim.engine import compile_world

    data = small_scenario_dict()
    w = compile_world(_load(small_dir, data["effectors"][:1]))   # the Tor: missiles only
    assert w.models["flyout"] == REGISTRY["missile"].flyout_text
    assert w.models["kill"] == REGISTRY["missile"].kill_text
    assert "Gun fire units" not in w.models["flyout"] + w.models["kill"]
    assert shots_label(w) == "missiles"


def test_a_type_that_states_no_text_is_named_as_such():
    class Silent(Effector):   # not registered: only its texts are read
        weapon_type = "silent_test"
        shot_name = "pulses"

    class Described(Silent):
        weapon_type = "described_test"
        model_text = "a general text"

    text = weapon_model_text([REGISTRY["missile"], Silent, Described], "kill")
    assert text.startswith(REGISTRY["missile"].kill_text)
    assert "silent_test fire units (pulses): the weapon type states no kill text of its own; iadsim knows " \
           "nothing of what its model leaves out." in text
    assert text.endswith("described_test fire units (pulses): the weapon type states no kill text of its own; "
                         "its assumptions: effector_described_test")


@pytest.mark.parametrize("effectors, label", [([], "shots"), ([GEPARD], "bursts")])
def test_shots_label(small_dir, effectors, label):
    class World:
        loaded = _load(small_dir, effectors)

    assert shots_label(World()) == label
    assert shots_label(object()) == "shots"   # a stand-in without its scenario


def test_the_cli_and_report_threat_tables_say_what_their_shots_add_up(small_dir, tmp_path, capsys):
    from iadsim.cli import main

    out = tmp_path / "run"
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", "2", "-o", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "(missiles + bursts, counted together)" in printed   # the Tor and the Pantsir's guns
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "mean shots fired at it (missiles + bursts)" in html
