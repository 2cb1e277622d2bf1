"""Run validation cases through the same pipeline as any scenario and compare with the record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iadsim.errors import InputError, Problem
from iadsim.validation.cases import MEASURES, LoadedCase


@dataclass
class VariantResult:
    label: str
    simulated: float            # mean of the per-replication fraction
    ci_low: float               # 95% interval of that mean (Student t over replications)
    ci_high: float
    observed: float | None      # the matching observation's fraction, if any
    observed_label: str | None
    inside: bool                # the simulated value lies inside the band


@dataclass
class CaseResult:
    name: str
    title: str
    measure: str
    expect: str
    band: tuple[float, float]
    max_spread: float | None
    replications: int
    seed: int
    variants: list[VariantResult]
    spread: float
    reproduced: bool            # every variant inside the band (and flat enough, if asked)
    passed: bool                # the expectation holds (reproduced for 'inside', not for 'outside')
    known_failure: str | None
    status: str                 # pass | FAIL | known failure | unexpected pass
    sources: list[dict[str, Any]] = field(default_factory=list)
    leaves_out: list[str] = field(default_factory=list)
    notional: list[str] = field(default_factory=list)
    summary: str = ""
    why: str = ""
    observed: list[dict[str, Any]] = field(default_factory=list)


def _variant_scenario(lc: LoadedCase, sets: dict[str, Any]):
    """The case's scenario with the variant's fields set (paths as `iadsim sweep --vary`)."""
    from iadsim.scenario.loader import load_scenario
    from iadsim.scenario.variants import with_fields

    return with_fields(load_scenario(lc.scenario_path), sets, where=f"{lc.source}: variants.set")


def _fractions(res, measure: str) -> np.ndarray:
    """Per-replication fraction of the threats launched that were destroyed / reached their target."""
    df = res.replications
    if measure == "destroyed_fraction":
        col = df["killed"]
    else:
        col = df["leaked"] & df["target"].notna()
    return col.groupby(df["replication"]).mean().to_numpy(dtype=float)


def run_case(lc: LoadedCase, replications: int | None = None, seed: int | None = None,
             progress: Callable[[str], None] | None = None) -> CaseResult:
    """Simulate every variant of a case and judge it against its band."""
    from iadsim.api import simulate
    from iadsim.results.stats import mean_interval

    c = lc.case
    n = int(replications or c.replications)
    variants = c.variants or [_default_variant(c)]
    obs = {o.label: o for o in c.observed}
    out: list[VariantResult] = []
    seed_used = None
    for v in variants:
        ld = _variant_scenario(lc, v.set)
        s = int(seed if seed is not None else ld.scenario.simulation.seed)
        seed_used = s
        res = simulate(ld, replications=n, seed=s)
        fr = _fractions(res, c.measure)
        m, lo, hi = mean_interval(fr, support=(0.0, 1.0))   # a fraction
        o = obs.get(v.observed) if v.observed else (c.observed[0] if len(c.observed) == 1 else None)
        out.append(VariantResult(label=v.label, simulated=m, ci_low=lo, ci_high=hi,
                                 observed=lc.observed_fraction(o) if o else None,
                                 observed_label=o.label if o else None,
                                 inside=bool(c.band.low <= m <= c.band.high)))
        if progress:
            progress(f"{c.name}: {v.label} done")
    sims = np.array([r.simulated for r in out])
    spread = float(np.ptp(sims)) if len(sims) else 0.0
    reproduced = all(r.inside for r in out) and (c.band.max_spread is None or spread <= c.band.max_spread)
    passed = reproduced if c.expect == "inside" else not reproduced
    if c.known_failure:
        status = "unexpected pass" if passed else "known failure"
    else:
        status = "pass" if passed else "FAIL"
    return CaseResult(
        name=c.name, title=c.title, measure=c.measure, expect=c.expect, band=(c.band.low, c.band.high),
        max_spread=c.band.max_spread, replications=n, seed=int(seed_used or 0), variants=out, spread=spread,
        reproduced=reproduced, passed=passed, known_failure=c.known_failure, status=status,
        sources=[s.model_dump() for s in c.sources], leaves_out=list(c.leaves_out), notional=list(c.notional),
        summary=c.summary, why=c.band.why,
        observed=[{**o.model_dump(), "fraction": lc.observed_fraction(o)} for o in c.observed])


def _default_variant(c):
    from iadsim.validation.cases import Variant

    return Variant(label="as reported", observed=c.observed[0].label if len(c.observed) == 1 else None)


def run_suite(cases: list[LoadedCase], quick: bool = False, replications: int | None = None,
              seed: int | None = None, progress: Callable[[str], None] | None = None) -> list[CaseResult]:
    """Run cases; ``quick`` uses each case's reduced (CI) replication count."""
    results = []
    for lc in cases:
        n = replications or (lc.case.replications_ci if quick else lc.case.replications)
        results.append(run_case(lc, replications=n, seed=seed, progress=progress))
    return results


def failed(results: list[CaseResult]) -> list[CaseResult]:
    """Cases whose expectation does not hold and that are not marked as known failures."""
    return [r for r in results if r.status == "FAIL"]


def to_dict(results: list[CaseResult]) -> dict[str, Any]:
    from dataclasses import asdict

    return {"measures": MEASURES, "cases": [asdict(r) for r in results],
            "counts": {s: sum(r.status == s for r in results)
                       for s in ("pass", "FAIL", "known failure", "unexpected pass")}}


__all__ = ["run_case", "run_suite", "failed", "to_dict", "CaseResult", "VariantResult", "Problem"]
