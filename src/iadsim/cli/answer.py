"""The scenario's answer on the console: one table row per option x mission, the missing-cost
note once, then what moves the outcome (the report and summary.json keep every sentence)."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from iadsim.results import exchange_words

_ADD_COST = "add one with the scenario's catalog: section or --set"


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.0f}%"


def _pct_ci(v, lo, hi) -> str:
    if v is None:
        return "–"
    return _pct(v) + ("" if lo is None or hi is None else f" ({100 * lo:.0f}–{100 * hi:.0f}%)")


def _dur(v) -> str:
    """A duration [s]: seconds below two minutes, else minutes (as the answer's sentences)."""
    if v is None:
        return "–"
    return f"{max(v, 0.0):.0f} s" if v < 120 else f"{v / 60:.1f} min"


def _dur_ci(v, lo, hi) -> str:
    """A mean duration [s] and its interval in one unit: '45 (41–49) s' or '2.9 (2.1–3.6) min'."""
    if v is None:
        return "–"
    if lo is None or hi is None:
        return _dur(v)
    if v < 120:
        return f"{max(v, 0.0):.0f} ({max(lo, 0.0):.0f}–{max(hi, 0.0):.0f}) s"
    return f"{v / 60:.1f} ({max(lo, 0.0) / 60:.1f}–{hi / 60:.1f}) min"


def mission_table(options: list[dict[str, Any]]) -> Table | None:
    """One row per option x mission: accomplished and lost with their 95% intervals, a weapon on
    its target, and the mean time per sortie within a fire unit's envelope and a radar's coverage."""
    rows = [(opt, m) for opt in options for m in opt["missions"]]
    if not rows:
        return None
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, caption_justify="left",
              caption="95% intervals in parentheses; on target: a released weapon reached its target; "
                      "in envelope, in coverage: mean time per sortie inside a fire unit's engagement "
                      "envelope, inside a radar's coverage")
    for col, just in (("option", "left"), ("threat", "left"), ("accomplished", "right"), ("lost", "right"),
                      ("on target", "right"), ("in envelope", "right"), ("in coverage", "right")):
        t.add_column(col, justify=just, overflow="fold")
    several = len(options) > 1
    last_row = {id(opt): i for i, (opt, _) in enumerate(rows)}    # the last row of each option
    for i, (opt, m) in enumerate(rows):
        first = i == 0 or rows[i - 1][0] is not opt
        t.add_row(escape(opt["name"]) if first else "", escape(str(m["threat"])),
                  _pct_ci(m["p_accomplished"], m["p_accomplished_lo"], m["p_accomplished_hi"]),
                  _pct_ci(m["p_loss"], m["p_loss_lo"], m["p_loss_hi"]),
                  _pct(m.get("p_weapon_reached_target")),
                  _dur_ci(m.get("mean_exposure_envelope_s"), m.get("mean_exposure_envelope_s_lo"),
                          m.get("mean_exposure_envelope_s_hi")),
                  _dur(m.get("mean_exposure_coverage_s")),
                  end_section=several and last_row[id(opt)] == i and i < len(rows) - 1)
    return t


def accomplished_means(options: list[dict[str, Any]]) -> str | None:
    """What "accomplished" means for each threat with a mission, once per threat."""
    seen: dict[str, str] = {}
    for opt in options:
        for m in opt["missions"]:
            seen.setdefault(f"{m['threat']} ({m['mission']})", str(m["accomplished_means"]))
    return "accomplished: " + "; ".join(f"{k}: {v}" for k, v in seen.items()) + "." if seen else None


def exchange_lines(options: list[dict[str, Any]]) -> list[str]:
    """The exchange ratio of each option that has one, and ONE sentence naming every cost figure
    the catalog lacks (with the options it leaves without a ratio) instead of one per option."""
    lines: list[str] = []
    missing: list[str] = []
    shown, lacking = 0, []
    for opt in options:
        ex = opt.get("exchange")
        if ex is None or not (opt["missions"] or ex.get("ratio") is not None):
            continue
        shown += 1
        if ex.get("missing"):
            missing += [k for k in ex["missing"] if k not in missing]
            lacking.append(opt["name"])
        else:
            lines.append(f"{opt['name']}: {exchange_words(ex)}")
    if missing:
        which = ("no option has one" if len(lacking) == shown > 1 else
                 "the scenario has none" if len(lacking) == shown else
                 f"{', '.join(lacking)} {'have' if len(lacking) > 1 else 'has'} none")
        lines.insert(0, f"exchange ratio: no cost figure for {', '.join(missing)} in the catalog, so {which} "
                        f"({_ADD_COST}).")
    return lines


def print_answer(console: Console, parts: dict[str, Any]) -> None:
    """The question, the per-option table, the exchange ratio and the findings."""
    if not (parts["option_sentences"] or parts["finding_sentences"]):
        return
    if parts["question"]:
        console.print(f"[bold]Question:[/bold] {escape(parts['question'])}", soft_wrap=True)
    console.print("[bold]Answer:[/bold]")
    table = mission_table(parts["options"])
    if table is not None:
        console.print(table)
    means = accomplished_means(parts["options"])
    lines = ([means] if means else []) + exchange_lines(parts["options"]) + list(parts["finding_sentences"])
    for line in lines:
        console.print(f"  • {escape(line)}", soft_wrap=True, highlight=False)
