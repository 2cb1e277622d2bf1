"""Catalog overrides: change any figure of any system for one scenario (``catalog:`` in the
scenario file, or ``--set SYSTEM.FIGURE=VALUE`` on the command line).

An override replaces the figure's value and, if given, its range; it keeps the unit and the public
claims, and its ``source`` says that it is an override and why, so the report's provenance table
lists it as one. The catalog itself is never changed: the scenario gets a copy.

    catalog:
      pantsir_s1:
        pk_single_shot: {value: 0.5, low: 0.3, high: 0.7, reason: "a pessimistic case"}
        reaction_time_s: 8          # value only: the range collapses to it
        missile_cost_usd: {value: 90000, reason: "a user's figure"}   # a cost figure may be added

A cost figure (``unit_cost_usd``, ``missile_cost_usd``) a system lacks may be supplied this way;
any other figure must already exist in the catalog.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from iadsim.catalog import Catalog, Figure, System
from iadsim.catalog.models import COST_FIGURE_KIND, COST_FIGURES, figure_domain_problem
from iadsim.errors import InputError, Problem

OVERRIDE_PREFIX = "scenario override"


def _hint(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def parse_set(items: list[str] | None, source: str = "--set") -> dict[str, dict[str, Any]]:
    """``["pantsir_s1.pk_single_shot=0.5", ...]`` -> {"pantsir_s1": {"pk_single_shot": {...}}}.

    A value may be ``V`` or ``LOW:V:HIGH`` (a range)."""
    out: dict[str, dict[str, Any]] = {}
    problems = []
    for item in items or []:
        lhs, eq, rhs = item.partition("=")
        sysname, dot, key = lhs.strip().partition(".")
        if not eq or not dot or not sysname or not key:
            problems.append(Problem(source, item, "expected SYSTEM.FIGURE=VALUE or SYSTEM.FIGURE=LOW:VALUE:HIGH, "
                                                  "e.g. pantsir_s1.pk_single_shot=0.5"))
            continue
        parts = rhs.split(":")
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            problems.append(Problem(source, item, f"expected a number (or LOW:VALUE:HIGH), got {rhs!r}"))
            continue
        if len(nums) == 1:
            spec: dict[str, Any] = {"value": nums[0]}
        elif len(nums) == 3:
            spec = {"low": nums[0], "value": nums[1], "high": nums[2]}
        else:
            problems.append(Problem(source, item, f"expected VALUE or LOW:VALUE:HIGH, got {rhs!r}"))
            continue
        spec["reason"] = "set on the command line"
        out.setdefault(sysname, {})[key] = spec
    if problems:
        raise InputError(problems)
    return out


def merge(data: Any, overrides: dict[str, dict[str, Any]] | None) -> Any:
    """The scenario mapping with command-line overrides merged into its ``catalog`` section
    (command line wins)."""
    if not overrides or not isinstance(data, dict):
        return data
    data = dict(data)
    cat = dict(data.get("catalog") or {}) if isinstance(data.get("catalog") or {}, dict) else {}
    for sysname, figs in overrides.items():
        cur = cat.get(sysname)
        cur = dict(cur) if isinstance(cur, dict) else {}
        cur.update(figs)
        cat[sysname] = cur
    data["catalog"] = cat
    return data


def apply_overrides(catalog: Catalog, section: dict[str, dict[str, Any]] | None, source: str) -> Catalog:
    """A copy of ``catalog`` with the scenario's ``catalog:`` overrides applied; every problem at
    once (unknown system or figure with a suggestion, a value outside the figure's domain, a range
    that does not hold the value)."""
    if not section:
        return catalog
    problems: list[Problem] = []
    systems: dict[str, System] = {name: catalog[name] for name in catalog}
    names = list(systems)
    for sysname, figs in section.items():
        where = f"catalog.{sysname}"
        if sysname not in catalog:
            problems.append(Problem(source, where, f"unknown catalog system {sysname!r}{_hint(sysname, names)}; "
                                                   "`iadsim catalog list` lists them"))
            continue
        base = catalog[sysname]
        if not isinstance(figs, dict) or not figs:
            problems.append(Problem(source, where, "expected a mapping FIGURE: VALUE or FIGURE: {value, low, high, reason}"))
            continue
        new = dict(base.figures)
        for key, spec in figs.items():
            fwhere = f"{where}.{key}"
            if key in COST_FIGURES and base.kind != COST_FIGURE_KIND[key]:
                article = "an" if base.kind[0] in "aeiou" else "a"
                what = "interceptor" if key == "missile_cost_usd" else "unit"
                problems.append(Problem(source, fwhere, f"{key} is the cost of one {COST_FIGURE_KIND[key]}'s "
                                                        f"{what}; {base.name} is {article} {base.kind}"))
                continue
            if key not in base.figures and key not in COST_FIGURES:
                problems.append(Problem(source, fwhere, f"{base.name} has no figure {key!r}{_hint(key, list(base.figures))}; "
                                                        f"`iadsim catalog show {base.name}` lists them"))
                continue
            if not isinstance(spec, dict):
                spec = {"value": spec}
            extra = set(spec) - {"value", "low", "high", "reason"}
            if extra:
                problems.append(Problem(source, f"{fwhere}.{sorted(extra)[0]}",
                                        "unknown field; an override has value, low, high and reason"))
                continue
            vals = {k: _number(spec.get(k)) for k in ("value", "low", "high")}
            bad = [k for k in ("value", "low", "high") if spec.get(k) is not None and vals[k] is None]
            if bad or vals["value"] is None:
                k = bad[0] if bad else "value"
                problems.append(Problem(source, f"{fwhere}.{k}" if isinstance(spec, dict) and len(spec) > 1 else fwhere,
                                        f"expected a finite number, got {spec.get(k)!r}"))
                continue
            v = vals["value"]
            lo = vals["low"] if vals["low"] is not None else v
            hi = vals["high"] if vals["high"] is not None else v
            if not lo <= v <= hi:
                problems.append(Problem(source, fwhere, f"expected low <= value <= high, got {lo:g} <= {v:g} <= {hi:g}"))
                continue
            reason = str(spec.get("reason") or "no reason given")
            if key not in base.figures:   # a cost figure the catalog lacks: the scenario supplies it
                fig = Figure(value=v, unit=COST_FIGURES[key], low=lo, high=hi,
                             source=f"{OVERRIDE_PREFIX}: {reason} (no catalog figure)", confidence="estimate",
                             note=f"set in the scenario ({reason})")
                why = figure_domain_problem(key, fig)
                if why:
                    problems.append(Problem(source, fwhere, why))
                    continue
                new[key] = fig
                continue
            old = base.figures[key]
            if is_override(old) and (old.value, old.low, old.high) == (v, lo, hi):
                continue   # already applied (a scenario loaded again with its overridden catalog)
            fig = Figure(value=v, unit=old.unit, low=lo, high=hi,
                         source=f"{OVERRIDE_PREFIX}: {reason} (catalog: {old.value:g} {old.unit}, "
                                f"{old.low:g}-{old.high:g}, {old.confidence}, {old.source})",
                         confidence="estimate", note=f"overridden in the scenario ({reason})", claims=old.claims)
            why = figure_domain_problem(key, fig)
            if why:
                problems.append(Problem(source, fwhere, why))
                continue
            new[key] = fig
        systems[base.name] = base.model_copy(update={"figures": new})
        problems += _fire_control_problems(systems[base.name], where, source)
    if problems:
        raise InputError(problems)
    return Catalog(systems)


def _fire_control_problems(system: System, where: str, source: str) -> list[Problem]:
    """The overridden entry's contradictions among its fire-control and envelope figures
    (iadsim.catalog.firecontrol), at the scenario's override path."""
    from iadsim.catalog.firecontrol import fire_control_problems

    return [Problem(source, f"{where}.{path.removeprefix('figures.')}", f"catalog entry {system.name!r}: {msg}")
            for path, msg in fire_control_problems(system)]


def is_override(fig: Figure) -> bool:
    return fig.source.startswith(OVERRIDE_PREFIX)
