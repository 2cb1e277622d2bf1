"""Which disputed figures drive an outcome: global sensitivity (SALib) and a one-at-a-time tornado.

Every figure the run uses that public sources give as a range (``low < high`` in the catalog, see
:data:`iadsim.engine.parameters.SAMPLED_FIGURES`) is a factor, varied over its range. Each design
point is evaluated by ``reps`` replications that reuse the same random numbers at every point
(common random numbers: the differences between points come from the figures, not from noise).

Methods: Sobol' indices with Saltelli's sampling (Saltelli et al. 2010, "Variance based
sensitivity analysis of model output", Comput. Phys. Commun. 181:259-270,
doi:10.1016/j.cpc.2009.09.018) and Morris elementary effects (Morris 1991, Technometrics
33(2):161-174; mu* of Campolongo, Cariboni & Saltelli 2007), both from SALib (Herman & Usher
2017, JOSS 2(9):97). The tornado varies one figure at a time to its low and high ends with the
others at nominal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import warnings

import numpy as np
import pandas as pd

from iadsim.engine import World, compile_world, simulate_chunk
from iadsim.engine.parameters import SAMPLED_FIGURES, apply, apply_readiness, nominal
from iadsim.engine.rng import replication_keys
from iadsim.errors import InputError, Problem
from iadsim.scenario.loader import LoadedScenario

OUTCOME_KINDS = {
    "pkill": "probability that the threat (or every member of a salvo) is killed",
    "leak": "probability that the threat (any member of a salvo) reaches the end of its route",
    "survive": "probability that the asset is not reached by any threat aimed at it",
    "missiles": "mean missiles fired by the fire unit",
}
BATCH_POINTS = 256


class UndefinedSensitivity(InputError):
    """The outcome does not vary over the design: every index would be 0/0."""

    def __init__(self, message: str) -> None:
        super().__init__([Problem("--outcome", "", message)])


@dataclass
class SensitivityResult:
    method: str
    outcome: str
    factors: list[str]
    indices: pd.DataFrame          # one row per factor
    tornado: pd.DataFrame          # one row per factor: outcome at low and at high
    baseline: float                # outcome with every figure nominal
    n_points: int
    reps: int
    seed: int
    meta: dict = field(default_factory=dict)


def _outcome_fn(world: World, outcome: str, source: str = "--outcome") -> Callable:
    """Map an outcome spec 'kind:name' to a function of a ChunkResult -> [R] values."""
    kind, _, name = outcome.partition(":")
    if kind not in OUTCOME_KINDS or not name:
        raise InputError.single(source, "", f"expected KIND:NAME with KIND one of {', '.join(OUTCOME_KINDS)}, "
                                f"got {outcome!r}")
    groups = [t.name for t in world.scenario.threats]
    if kind in ("pkill", "leak"):
        if name in world.threat_labels:
            cols = [world.threat_labels.index(name)]
        elif name in groups:
            cols = [i for i, g in enumerate(world.threat_group) if g == groups.index(name)]
        else:
            raise InputError.single(source, "", f"unknown threat {name!r}; expected one of: "
                                    f"{', '.join(dict.fromkeys(groups + world.threat_labels))}")
        if kind == "pkill":
            return lambda r: np.all(r.kill_step[:, cols] >= 0, axis=1).astype(float)
        return lambda r: np.any(r.leak_step[:, cols] >= 0, axis=1).astype(float)
    if kind == "survive":
        assets = [a.name for a in world.scenario.assets]
        if name not in assets:
            raise InputError.single(source, "", f"unknown asset {name!r}; expected one of: {', '.join(assets)}")
        cols = np.flatnonzero(world.target == assets.index(name))
        return lambda r: 1.0 - np.any(r.leak_step[:, cols] >= 0, axis=1).astype(float)
    if name not in world.effector_labels:
        raise InputError.single(source, "", f"unknown fire unit {name!r}; expected one of: "
                                f"{', '.join(world.effector_labels)}")
    e = world.effector_labels.index(name)
    return lambda r: r.expended[:, e].astype(float)


def factors_of(world: World) -> list[tuple[str, str, float, float, float]]:
    """(system, key, low, nominal, high) of every figure with a range that the engine can vary."""
    out = []
    for u in sorted(world.figures, key=lambda u: (u.system, u.key)):
        f = u.figure
        if u.key in SAMPLED_FIGURES and f.low < f.high:
            out.append((u.system, u.key, float(f.low), float(f.value), float(f.high)))
    return out


def evaluate(world: World, factors, X: np.ndarray, reps: int, seed: int, fn: Callable,
             progress: Callable[[int, int], None] | None = None,
             spread: np.ndarray | None = None) -> np.ndarray:
    """Mean outcome at each design point (rows of X, one column per factor).

    ``spread``: if given ([len(X)]), filled with the sample standard deviation of the outcome over
    the point's replications (0 for a single replication)."""
    keys_one = replication_keys(seed, 0, reps)
    Y = np.empty(len(X))
    for b0 in range(0, len(X), BATCH_POINTS):
        Xb = X[b0:b0 + BATCH_POINTS]
        B = len(Xb)
        p = nominal(world, B * reps)
        draws = {(s, k): np.repeat(Xb[:, j], reps) for j, (s, k, *_rest) in enumerate(factors)}
        apply(world, p, draws)
        apply_readiness(world, p, seed, 0, index=np.tile(np.arange(reps), B))   # as the keys: reused per point
        res = simulate_chunk(world, seed, 0, B * reps, params=p, keys=np.tile(keys_one, (B, 1)))
        y = fn(res).reshape(B, reps)
        Y[b0:b0 + B] = y.mean(axis=1)
        if spread is not None:
            spread[b0:b0 + B] = y.std(axis=1, ddof=1) if reps > 1 else 0.0
        if progress:
            progress(b0 + B, len(X))
    return Y


def sensitivity(ld: LoadedScenario, method: str = "sobol", outcome: str | None = None, n: int = 64,
                reps: int = 20, seed: int | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> SensitivityResult:
    """Sensitivity of ``outcome`` ('pkill:THREAT', 'leak:THREAT', 'survive:ASSET',
    'missiles:UNIT'; default: pkill of the first threat) to the disputed catalog figures."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method not in ("sobol", "morris"):
        raise InputError.single("--method", "", f"expected 'sobol' or 'morris', got {method!r}")
    if n < 2 or reps < 1:
        raise InputError.single("-n/--reps", "", "need n >= 2 base samples and reps >= 1")
    note = progress or (lambda stage, done, total: None)
    note("compile", 0, 1)
    world = compile_world(ld)
    seed = int(seed if seed is not None else ld.scenario.simulation.seed)
    outcome = outcome or f"pkill:{ld.scenario.threats[0].name}"
    fn = _outcome_fn(world, outcome)
    facs = factors_of(world)
    if len(facs) < 1:
        raise InputError.single(ld.source, "", "no figure used by this scenario has a range to vary")
    names = [f"{s}.{k}" for s, k, *_ in facs]
    problem = {"num_vars": len(facs), "names": names, "bounds": [[lo, hi] for _, _, lo, _, hi in facs]}
    if method == "sobol":
        m = 1 << max(int(np.ceil(np.log2(n))), 1)  # Sobol' sequences want a power of two
        X = sobol_sample.sample(problem, m, calc_second_order=False, seed=seed % (2**32))
    else:
        X = morris_sample.sample(problem, n, num_levels=4, seed=seed % (2**32))
    nominal_row = np.array([nom for *_, nom, _hi in facs])
    # tornado: each factor at its low and high end, the others nominal; plus the all-nominal point
    T = np.repeat(nominal_row[None, :], 2 * len(facs) + 1, axis=0)
    for j, (_, _, lo, _, hi) in enumerate(facs):
        T[2 * j, j] = lo
        T[2 * j + 1, j] = hi
    total = len(X) + len(T)
    Y = evaluate(world, facs, X, reps, seed, fn, lambda d, t: note(f"{method} design", d, total))
    sd_T = np.zeros(len(T))
    YT = evaluate(world, facs, T, reps, seed, fn, lambda d, t: note("tornado", len(X) + d, total), spread=sd_T)
    Yall = np.concatenate([Y, YT])
    if np.ptp(Yall) == 0.0:
        raise UndefinedSensitivity(
            f"{outcome} is {Yall[0]:.4g} at every one of the {len(Yall)} design points "
            f"({reps} replications each): it does not vary with any disputed figure, so its "
            "sensitivity indices are undefined (0/0). Choose an outcome that varies (e.g. another "
            "threat, 'leak:', 'survive:' or 'missiles:'), or widen the scenario so that it can.")
    warnings_out: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if method == "sobol":
            si = sobol_analyze.analyze(problem, Y, calc_second_order=False, seed=seed % (2**32))
            idx = pd.DataFrame({"factor": names, "S1": si["S1"], "S1_conf": si["S1_conf"],
                                "ST": si["ST"], "ST_conf": si["ST_conf"]}).sort_values("ST", ascending=False)
        else:
            mi = morris_analyze.analyze(problem, X, Y, num_levels=4, seed=seed % (2**32))
            idx = pd.DataFrame({"factor": names, "mu_star": mi["mu_star"], "mu_star_conf": mi["mu_star_conf"],
                                "sigma": mi["sigma"], "mu": mi["mu"]}).sort_values("mu_star", ascending=False)
    for w in caught:  # the library's own warnings, in words a user can act on
        warnings_out.append(f"SALib: {w.message}")
    if method == "sobol":
        bad = idx[(idx.ST > 1.0 + 1e-9) | (idx.S1 > 1.0 + 1e-9) | (idx.ST < -1e-9) | (idx.S1 < -1e-9)]
        if len(bad):
            warnings_out.append(
                f"{len(bad)} Sobol' index(es) fall outside [0, 1] ({', '.join(bad.factor.head(5))}): "
                f"the sample ({len(X)} points, {reps} replications each) is too small for stable estimates; "
                "raise -n (base samples) and --reps, and read the confidence columns (*_conf)")
        wide = idx[idx.ST_conf > 0.5]
        if len(wide):
            warnings_out.append(
                f"{len(wide)} total-order index(es) have a 95% half-width above 0.5: raise -n for a ranking "
                "you can rely on")
    lo_i, hi_i = np.arange(0, len(T) - 1, 2), np.arange(1, len(T) - 1, 2)
    z = 1.959963984540054  # 95% normal quantile for the mean of `reps` replications
    half = z * sd_T / np.sqrt(reps) if reps > 1 else np.full(len(T), np.nan)
    low, high = YT[lo_i], YT[hi_i]
    tor = pd.DataFrame({"factor": names, "low_value": [f[2] for f in facs], "nominal_value": nominal_row,
                        "high_value": [f[4] for f in facs], "outcome_at_low": low, "outcome_at_high": high,
                        "outcome_at_low_ci": half[lo_i], "outcome_at_high_ci": half[hi_i],
                        "swing": np.abs(high - low)}).sort_values("swing", ascending=False)
    return SensitivityResult(method=method, outcome=outcome, factors=names, indices=idx.reset_index(drop=True),
                             tornado=tor.reset_index(drop=True), baseline=float(YT[-1]), n_points=len(X),
                             reps=reps, seed=seed, meta={"outcome_meaning": OUTCOME_KINDS[outcome.split(':')[0]],
                                                         "scenario": ld.scenario.name,
                                                         "baseline_ci": float(half[-1]),
                                                         "warnings": warnings_out})
