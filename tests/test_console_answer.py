"""The console's answer (one table row per option x mission, the missing-cost note once) and the
report of a saved run folder (the radiating times summary.json saved)."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from rich.console import Console

from conftest import small_scenario_dict
from iadsim.cli import main
from iadsim.cli.answer import exchange_lines, mission_table, print_answer
from iadsim.results import exchange_words
from iadsim.results.stats import poisson_rate_interval


def _mission(threat: str, p: float) -> dict:
    return {"threat": threat, "mission": "isr", "accomplished_means": "the whole time on station flown",
            "p_accomplished": p, "p_accomplished_lo": p / 2, "p_accomplished_hi": min(1.0, p * 1.5),
            "p_loss": 1 - p, "p_loss_lo": (1 - p) / 2, "p_loss_hi": 1.0, "p_weapon_reached_target": None,
            "mean_exposure_envelope_s": 45.0, "mean_exposure_envelope_s_lo": 41.0,
            "mean_exposure_envelope_s_hi": 49.0, "mean_exposure_coverage_s": 300.0}


def _exchange(missing=(), ratio=None) -> dict:
    ex = {"costs": [], "missing": list(missing), "ratio": ratio, "ratio_lo": ratio and ratio / 2,
          "ratio_hi": ratio and ratio * 2, "reverse": ratio and 1 / ratio, "reverse_lo": ratio and 0.5 / ratio,
          "reverse_hi": ratio and 2 / ratio, "threats_destroyed_usd": 1e6, "interceptors_fired_usd": 2e6}
    if missing:
        ex["note"] = "no cost figure for " + ", ".join(missing)
    return ex


def _options(missing_per_option) -> list[dict]:
    return [{"name": name, "missions": [_mission("drone-a", 0.2), _mission("drone-b", 0.6)],
             "exchange": _exchange(missing) if missing else _exchange(ratio=0.5)}
            for name, missing in missing_per_option]


def _shown(parts) -> str:
    buf = io.StringIO()
    print_answer(Console(file=buf, width=160, color_system=None), parts)
    return buf.getvalue()


def test_missing_cost_sentence_is_printed_once_for_all_options():
    opts = _options([("as written", ["buk_m2.missile_cost_usd", "tor_m2.missile_cost_usd"]),
                     ("without-buk", ["tor_m2.missile_cost_usd"]),
                     ("more-tor", ["tor_m2.missile_cost_usd", "pantsir_s1.missile_cost_usd"])])
    lines = exchange_lines(opts)
    assert len(lines) == 1
    # every missing figure named once, in order of first appearance
    assert "buk_m2.missile_cost_usd, tor_m2.missile_cost_usd, pantsir_s1.missile_cost_usd" in lines[0]
    assert "no option has one" in lines[0]
    shown = _shown({"question": "Q?", "options": opts, "option_sentences": ["x"], "finding_sentences": ["F."]})
    assert shown.count("no cost figure") == 1
    assert "F." in shown and "Q?" in shown


def test_options_with_costs_keep_their_ratio_and_the_others_are_named():
    opts = _options([("as written", ["tor_m2.missile_cost_usd"]), ("with-costs", None)])
    lines = exchange_lines(opts)
    assert lines[0].startswith("exchange ratio: no cost figure for tor_m2.missile_cost_usd")
    assert "as written has none" in lines[0] and "with-costs" not in lines[0]
    assert lines[1:] == [f"with-costs: {exchange_words(opts[1]['exchange'])}"]
    # no cost figure missing anywhere: no such sentence at all
    assert not any("no cost figure" in x for x in exchange_lines(_options([("as written", None)])))


def test_one_table_row_per_option_and_mission():
    opts = _options([("as written", None), ("stand-off-30-km-without-buk", None)])
    table = mission_table(opts)
    assert table.row_count == 4
    shown = _shown({"question": None, "options": opts, "option_sentences": ["x"], "finding_sentences": []})
    rows = shown.split("  •")[0]                                   # the table, before the sentences
    assert rows.count("stand-off-30-km-without-buk") == 1         # the option named on its first row
    assert "20% (10–30%)" in shown and "80% (40–100%)" in shown    # accomplished and lost, 95% intervals
    assert "45 (41–49) s" in shown and "5.0 min" in shown
    assert mission_table([{"name": "as written", "missions": []}]) is None


def test_nothing_to_answer_prints_nothing():
    assert _shown({"question": "Q?", "options": [], "option_sentences": [], "finding_sentences": []}) == ""


@pytest.mark.slow   # the demo's six options at 4 replications: ~10 s
def test_demo_console_answer_is_compact(tmp_path, capsys):
    assert main(["demo", "-n", "4", "--tables-only", "--out", str(tmp_path / "demo")]) == 0
    shown = capsys.readouterr().out
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    answer = summary["answer"]
    # summary.json keeps every sentence; the console says the missing costs once
    assert sum("no cost figure" in s for s in answer["sentences"]) == len(answer["options"]) > 1
    assert shown.count("no cost figure") == 1
    for opt in answer["options"]:
        assert opt["name"] in shown
    assert "time within reach" not in shown          # the per-option sentences became table rows


def test_poisson_rate_interval_zero_events():
    # Garwood (1936): 0 events in H hours, 95% upper limit -ln(0.025) / H = 3.689 / H
    lo, hi = poisson_rate_interval(0, 2.0)
    assert lo == 0.0 and hi == pytest.approx(3.6889 / 2.0, rel=1e-4)
    lo1, hi1 = poisson_rate_interval(5, 2.0)
    assert 0 < lo1 < 2.5 < hi1                       # brackets the point estimate 5 / 2
    assert poisson_rate_interval(5, 4.0)[1] < hi1    # more exposure, lower rate


# ------------------------------------------------------------------ saved run folder


def _emcon_dir(tmp_path, synthetic_dem):
    d = tmp_path / "scn"
    d.mkdir()
    (d / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    scn = small_scenario_dict()
    scn["effectors"][0]["emcon"] = {"mode": "duty", "duty_cycle": 0.3, "period_s": 40}
    (d / "scenario.yaml").write_text(yaml.safe_dump(scn), encoding="utf-8")
    return d


@pytest.fixture()
def emcon_run(tmp_path, synthetic_dem):
    out = tmp_path / "run"
    scn = _emcon_dir(tmp_path, synthetic_dem) / "scenario.yaml"
    assert main(["run", str(scn), "-n", "8", "--seed", "2", "--out", str(out), "--tables-only", "-q"]) == 0
    return out


def test_report_of_a_saved_run_shows_the_radiating_times(emcon_run, capsys):
    from iadsim.report import load_run

    saved = json.loads((emcon_run / "summary.json").read_text())["radiating"]
    assert saved and all(r["mean_radiating_s"] > 0 for r in saved)
    res = load_run(emcon_run)
    assert res.raw.radiating is None                 # not in the saved tables...
    assert res.has_radiating and res.radiating_table() == saved    # ...but read back from summary.json
    assert res.summary["radiating"] == saved
    capsys.readouterr()
    assert main(["report", str(emcon_run)]) == 0
    html = (emcon_run / "report.html").read_text(encoding="utf-8")
    assert "radiating per replication" in html
    assert f"{saved[0]['radar']} " in html.split("radiating per replication", 1)[1][:2000]


def test_damaged_radiating_table_in_summary_is_refused(emcon_run, capsys):
    p = emcon_run / "summary.json"
    data = json.loads(p.read_text())
    data["radiating"][0]["mean_radiating_s"] = "lots"
    p.write_text(json.dumps(data))
    before = sorted(x.name for x in emcon_run.iterdir())
    assert main(["report", str(emcon_run)]) == 2
    err = capsys.readouterr().err
    assert "summary.json" in err and "radiating[0].mean_radiating_s" in err
    assert sorted(x.name for x in emcon_run.iterdir()) == before    # nothing written
