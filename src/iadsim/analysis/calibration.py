"""Calibration of disputed catalog figures against the validation suite (likelihood-free).

The figures public sources give only as a range (Pk, reaction and reload times, radar reference
ranges, ...) are calibrated with approximate Bayesian computation by sequential Monte Carlo
(ABC-SMC: Toni et al. 2009, "Approximate Bayesian computation scheme for parameter inference and
model selection in dynamical systems", J. R. Soc. Interface 6:187-202, doi:10.1098/rsif.2008.0172),
as implemented by pyabc (Schaelte et al. 2022, "pyABC: Efficient and robust easy-to-use
approximate Bayesian computation", JOSS 7(74):4304, doi:10.21105/joss.04304).

* **Priors**: each figure's catalog range, triangular over [low, high] with the mode at the
  nominal value: the same distribution ``simulation.uncertainty: sample`` draws from
  (:mod:`iadsim.engine.parameters`).
* **Data**: the observed counts of the validation cases: for every variant of every case, the
  fraction of the threats launched that were destroyed (or reached their target), per the case's
  ``measure``. Negative controls (``expect: outside``) are not data: their record is what the model
  must *not* reproduce, so they are left out.
* **Simulator**: for a parameter value, every variant is run for ``reps`` replications with the
  calibrated figures set to it and every other figure at its nominal value. Each evaluation draws
  fresh replications (its own block of replication streams): the simulated fraction is a synthetic
  record, noisy as the observed one is, so the posterior keeps the width the data allow; with
  common random numbers instead, ABC would converge on the one value that matches a frozen noise
  realisation and report a falsely narrow posterior. A simulated record the size of the observed
  one (``reps`` x threats per raid close to the count launched) gives the posterior its proper
  width; fewer replications widen it. The check of which cases constrain a figure uses common
  random numbers (the same replications at the figure's low and high).
* **Distance**: the mean, over the variants of all cases, of the absolute difference between the
  simulated and the observed fraction [fraction of threats].

Determinism: the run is a pure function of (cases, figures, settings, seed): one process, pyabc's
``SingleCoreSampler``, numpy's and Python's generators seeded from ``seed``, stopping on a
generation count (never on wall-clock time).

A figure counts as *constrained* by a case when the case's scenario uses it and the case's
simulated outcome moves between the figure's low and high ends (others nominal). The rule of the
suite is "never tune a figure to one validation case": a figure that fewer than two cases constrain
is reported, and is never written to the calibrated catalog (:func:`write_calibrated`). Cases marked
``known_failure`` are data (and named in the result) but do not count towards those two: a fit to a
case the model cannot reproduce compensates for what the model leaves out.
"""

from __future__ import annotations

import difflib
import logging
import os
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from iadsim.engine.parameters import SAMPLED_FIGURES
from iadsim.errors import InputError, Problem

#: the method named in calibration.json and calibrated.yaml
METHOD = "abc-smc"
#: cases that must constrain a figure before its calibrated range may enter the catalog
MIN_CASES_FOR_CATALOG = 2
INSTALL_HINT = ("calibration needs pyabc, an optional dependency: install it with "
                "`pip install 'iadsim[calibrate]'` (or `uv pip install pyabc`)")


@dataclass
class Target:
    """One variant of one case: a world to simulate and the fraction observed."""

    case: str
    variant: str
    observation: str
    observed: float             # observed fraction [1]
    launched: int               # threats launched in the record
    count: int                  # the record's count (destroyed or reached target)
    measure: str
    world: Any                  # iadsim.engine.World


@dataclass
class CalibrationResult:
    figures: list[str]                      # "system.key"
    cases: list[str]
    skipped: dict[str, str]                 # case -> why it is not data
    priors: dict[str, dict[str, Any]]       # figure -> {distribution, low, mode, high, q05, q95}
    samples: np.ndarray                     # [N, F] last generation's particles
    weights: np.ndarray                     # [N] normalised weights
    summary: dict[str, dict[str, float]]    # figure -> median, q05, q95, mean
    trajectory: list[dict[str, float]]      # per generation: t, epsilon, particles, samples
    constrained_by: dict[str, list[str]]    # figure -> cases whose outcome moves with it
    observed: list[dict[str, Any]]
    simulated_at_median: list[float]
    settings: dict[str, Any]
    seed: int
    notes: list[str] = field(default_factory=list)
    known_failures: list[str] = field(default_factory=list)  # cases among the data marked known_failure

    @property
    def catalog_ready(self) -> list[str]:
        """The figures enough cases constrain to enter the calibrated catalog (known failures do
        not count: a fit to a case the model cannot reproduce compensates for what it leaves out)."""
        return [f for f in self.figures if len(self.supporting(f)) >= MIN_CASES_FOR_CATALOG]

    def supporting(self, figure: str) -> list[str]:
        """The cases that constrain ``figure`` and are not known failures."""
        return [c for c in self.constrained_by[figure] if c not in self.known_failures]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": METHOD,
            "method_detail": self.settings.get("method_detail", ""),
            "seed": self.seed,
            "settings": self.settings,
            "cases": self.cases,
            "cases_skipped": self.skipped,
            "figures": {
                f: {"prior": self.priors[f], "posterior": self.summary[f],
                    "constrained_by": self.constrained_by[f],
                    "supporting_cases": self.supporting(f),
                    "catalog": ("may enter the calibrated catalog" if f in self.catalog_ready else
                                f"not for the catalog: constrained by {len(self.supporting(f))} case(s) that are "
                                f"not known failures ({', '.join(self.supporting(f)) or 'none'}); the rule is "
                                f"never to tune a figure to one validation case (at least {MIN_CASES_FOR_CATALOG} "
                                "needed)")}
                for f in self.figures},
            "observed": self.observed,
            "simulated_at_posterior_median": self.simulated_at_median,
            "distance": "mean over variants of |simulated - observed| fraction",
            "trajectory": self.trajectory,
            "posterior_samples": {"figures": self.figures, "values": self.samples.tolist(),
                                  "weights": self.weights.tolist()},
            "known_failures": self.known_failures,
            "notes": self.notes,
        }


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Quantile ``q`` of samples ``x`` with weights ``w`` (inverse of the weighted ECDF, midpoint rule)."""
    order = np.argsort(x, kind="stable")
    xs, ws = np.asarray(x, float)[order], np.asarray(w, float)[order]
    cw = np.cumsum(ws) - 0.5 * ws
    cw /= ws.sum()
    return float(np.interp(q, cw, xs))


def triangular_quantile(lo: float, mode: float, hi: float, q: float) -> float:
    """Quantile ``q`` of the triangular distribution on [lo, hi] with the given mode."""
    c = (mode - lo) / (hi - lo)
    if q < c:
        return lo + np.sqrt(q * (hi - lo) * (mode - lo))
    return hi - np.sqrt((1 - q) * (hi - lo) * (hi - mode))


def parse_figures(items: list[str], source: str = "--figure") -> list[tuple[str, str]]:
    out, problems = [], []
    for item in items:
        sysname, dot, key = item.strip().partition(".")
        if not dot or not sysname or not key:
            problems.append(Problem(source, item, "expected SYSTEM.FIGURE, e.g. nasams_aim_120.pk_single_shot"))
        else:
            out.append((sysname, key))
    if problems:
        raise InputError(problems)
    return out


def _targets(cases, progress: Callable[[str], None]) -> tuple[list[Target], dict[str, str]]:
    from iadsim.engine import compile_world
    from iadsim.validation.runner import _default_variant, _variant_scenario

    targets, skipped = [], {}
    for lc in cases:
        c = lc.case
        if c.expect == "outside":
            skipped[c.name] = "a negative control (expect: outside): its record is what the model must not reproduce"
            continue
        obs = {o.label: o for o in c.observed}
        n0 = len(targets)
        for v in c.variants or [_default_variant(c)]:
            o = obs.get(v.observed) if v.observed else (c.observed[0] if len(c.observed) == 1 else None)
            if o is None:
                continue
            progress(f"compile {c.name}: {v.label}")
            world = compile_world(_variant_scenario(lc, v.set))
            n = o.destroyed if c.measure == "destroyed_fraction" else o.reached_target
            targets.append(Target(case=c.name, variant=v.label, observation=o.label,
                                  observed=lc.observed_fraction(o), launched=o.launched, count=int(n),
                                  measure=c.measure, world=world))
        if len(targets) == n0:
            skipped[c.name] = "no variant is matched with an observation"
    return targets, skipped


def _check_figures(figures, targets, cases_source: str) -> list[tuple[str, str, float, float, float]]:
    """(system, key, low, nominal, high) per figure; InputError naming each bad one."""
    from iadsim.catalog import load_catalog

    cat = load_catalog()
    used: dict[tuple[str, str], Any] = {}
    for t in targets:
        for u in t.world.figures:
            used.setdefault((u.system, u.key), u.figure)
    problems, out = [], []
    for sysname, key in figures:
        name = f"{sysname}.{key}"
        if sysname not in cat:
            close = cat.suggest(sysname)
            hint = f" (did you mean {close!r}?)" if close else ""
            problems.append(Problem("--figure", name, f"unknown system {sysname!r}{hint}"))
            continue
        system = cat[sysname].name
        if key not in cat[system].figures:
            close = difflib.get_close_matches(key, list(cat[system].figures), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Problem("--figure", name, f"{system!r} has no figure {key!r}{hint}"))
            continue
        if key not in SAMPLED_FIGURES:
            problems.append(Problem("--figure", name, f"{key!r} is not a figure the engine varies per replication; "
                                    f"calibrable figures: {', '.join(SAMPLED_FIGURES)}"))
            continue
        fig = used.get((system, key))
        if fig is None:
            problems.append(Problem("--figure", name, f"no case's scenario uses {system}.{key} "
                                    f"(cases: {cases_source})"))
            continue
        if not fig.low < fig.high:
            problems.append(Problem("--figure", name, f"{system}.{key} has no range (low = high = {fig.value:g}) "
                                    "to calibrate within; give it one in the catalog"))
            continue
        out.append((system, key, float(fig.low), float(fig.value), float(fig.high)))
    if len({(s, k) for s, k, *_ in out}) < len(out):
        problems.append(Problem("--figure", "", "a figure is named twice"))
    if problems:
        raise InputError(problems)
    return out


def _simulator(targets: list[Target], facs, reps: int, seed: int):
    """theta [F] -> simulated fraction per target (common random numbers across theta)."""
    from iadsim.engine import simulate_chunk
    from iadsim.engine.parameters import apply, apply_readiness, nominal
    from iadsim.engine.rng import replication_keys

    crn = replication_keys(seed, 0, reps)

    def run(theta: np.ndarray, block: int | None = None) -> np.ndarray:
        """``block`` None: the common replications 0 .. reps-1; else replications of block
        ``block`` (1, 2, ...), disjoint from every other block."""
        keys = crn if block is None else replication_keys(seed, block * reps, reps)
        out = np.empty(len(targets))
        for i, t in enumerate(targets):
            w = t.world
            used = {(u.system, u.key) for u in w.figures}
            p = nominal(w, reps)
            draws = {(s, k): np.full(reps, float(theta[j])) for j, (s, k, *_r) in enumerate(facs) if (s, k) in used}
            apply(w, p, draws)
            apply_readiness(w, p, seed, 0 if block is None else block * reps)   # as the keys
            res = simulate_chunk(w, seed, 0, reps, params=p, keys=keys)
            if t.measure == "destroyed_fraction":
                hit = res.kill_step >= 0
            else:
                hit = (res.leak_step >= 0) & (np.asarray(w.target) >= 0)[None, :]
            out[i] = hit.mean()
        return out

    return run


def calibrate(cases, figures: list[tuple[str, str]], population: int = 50, generations: int = 4,
              reps: int = 20, seed: int = 1, progress: Callable[[str], None] | None = None) -> CalibrationResult:
    """Calibrate ``figures`` [(system, key), ...] against ``cases`` (loaded validation cases).

    ``population``: particles per generation; ``generations``: ABC-SMC generations (the only
    stopping rule); ``reps``: replications per variant at each parameter value."""
    try:
        import pyabc
        from pyabc.sampler import SingleCoreSampler
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError.single("iadsim validation calibrate", "", INSTALL_HINT) from None
    note = progress or (lambda s: None)
    problems = []
    if not cases:
        problems.append(Problem("CASES", "", "no validation case to calibrate against"))
    if not figures:
        problems.append(Problem("--figure", "", "name at least one figure to calibrate (SYSTEM.KEY)"))
    for name, v, lo in (("--population", population, 5), ("--generations", generations, 1), ("--reps", reps, 1)):
        if not isinstance(v, int) or v < lo:
            problems.append(Problem(name, "", f"expected an integer >= {lo}, got {v!r}"))
    if problems:
        raise InputError(problems)
    targets, skipped = _targets(cases, note)
    if not targets:
        raise InputError.single("CASES", "", "no case gives data: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    facs = _check_figures(figures, targets, ", ".join(lc.case.name for lc in cases))
    names = [f"{s}.{k}" for s, k, *_ in facs]
    seed = int(seed)
    sim = _simulator(targets, facs, reps, seed)
    y_obs = np.array([t.observed for t in targets])

    # which cases a figure constrains: the outcome moves between its low and high (others nominal)
    constrained: dict[str, list[str]] = {}
    nominal_row = np.array([f[3] for f in facs])
    for j, (s, k, lo, _nom, hi) in enumerate(facs):
        note(f"which cases constrain {s}.{k}")
        a, b = nominal_row.copy(), nominal_row.copy()
        a[j], b[j] = lo, hi
        ya, yb = sim(a), sim(b)
        moved = {t.case for t, u, v in zip(targets, ya, yb, strict=True)
                 if u != v and (s, k) in {(x.system, x.key) for x in t.world.figures}}
        constrained[f"{s}.{k}"] = sorted(moved)

    # pyabc: parameters named p0, p1, ... (pyabc keys must be identifiers)
    pkeys = [f"p{j}" for j in range(len(facs))]
    prior = pyabc.Distribution(**{
        pk: pyabc.RV("triang", (nom - lo) / (hi - lo), loc=lo, scale=hi - lo)
        for pk, (_s, _k, lo, nom, hi) in zip(pkeys, facs, strict=True)})
    counter = {"n": 0}

    def model(par):
        counter["n"] += 1  # pyabc's single-core sampler calls the model in a fixed order
        note(f"ABC-SMC: simulation {counter['n']}")
        return {"y": sim(np.array([float(par[pk]) for pk in pkeys]), block=counter["n"])}

    def distance(x, x0):
        return float(np.mean(np.abs(np.asarray(x["y"]) - np.asarray(x0["y"]))))

    for name in ("ABC", "pyabc", "Sampler", "Epsilon", "Distance", "Acceptor", "Transitions", "History"):
        logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger(f"ABC.{name}").setLevel(logging.WARNING)
    state_np, state_py = np.random.get_state(), random.getstate()
    np.random.seed(seed % (2**32))
    random.seed(seed)
    try:
        with tempfile.TemporaryDirectory(prefix="iadsim-abc-") as tmp:
            abc = pyabc.ABCSMC(model, prior, distance, population_size=population, sampler=SingleCoreSampler())
            abc.new("sqlite:///" + os.path.join(tmp, "abc.db"), {"y": y_obs})
            note("ABC-SMC")
            hist = abc.run(max_nr_populations=generations, minimum_epsilon=0.0)
            df, w = hist.get_distribution(m=0, t=hist.max_t)
            pops = hist.get_all_populations()
            trajectory = [{"generation": int(r.t), "epsilon": float(r.epsilon),
                           "particles": int(r.particles) if "particles" in pops else population,
                           "simulations": int(r.samples)}
                          for r in pops.itertuples() if r.t >= 0]
            X = df[pkeys].to_numpy(dtype=float)
            w = np.asarray(w, dtype=float)
            hist = None
            abc = None
    finally:
        np.random.set_state(state_np)
        random.setstate(state_py)
    order = np.lexsort(X.T[::-1])  # a fixed order of the particles
    X, w = X[order], w[order] / w.sum()

    priors, summary = {}, {}
    for j, (name, (_s, _k, lo, nom, hi)) in enumerate(zip(names, facs, strict=True)):
        priors[name] = {"distribution": "triangular", "low": lo, "mode": nom, "high": hi,
                        "q05": triangular_quantile(lo, nom, hi, 0.05), "q95": triangular_quantile(lo, nom, hi, 0.95)}
        summary[name] = {"median": weighted_quantile(X[:, j], w, 0.5), "q05": weighted_quantile(X[:, j], w, 0.05),
                         "q95": weighted_quantile(X[:, j], w, 0.95), "mean": float(np.sum(w * X[:, j]))}
    med = np.array([summary[n]["median"] for n in names])
    y_med = sim(med)
    notes = []
    known = sorted({lc.case.name for lc in cases if lc.case.known_failure and lc.case.name not in skipped})
    for n in names:
        c = constrained[n]
        sup = [x for x in c if x not in known]
        if len(c) == 0:
            notes.append(f"{n}: no case's outcome moves with it over its range: the data say nothing about it, "
                         "and any difference between its posterior and its prior is sampling noise")
        elif len(c) == 1:
            notes.append(f"{n}: only one case constrains it ({c[0]}); never tune a figure to one validation case, "
                         "so it is not written to the calibrated catalog")
        elif len(sup) < MIN_CASES_FOR_CATALOG:
            notes.append(f"{n}: constrained by {', '.join(c)}, but only {len(sup)} of them are not known failures; "
                         "it is not written to the calibrated catalog")
    if known:
        notes.append(f"known failures among the data ({', '.join(known)}): a posterior fitted to them also "
                     "compensates for what the model leaves out, and they do not count towards the catalog")
    settings = {"population": population, "generations": generations, "reps": reps,
                "generations_run": len(trajectory), "simulations": counter["n"],
                "sampler": "pyabc SingleCoreSampler", "epsilon": "pyabc MedianEpsilon",
                "transition": "pyabc MultivariateNormalTransition", "pyabc": pyabc.__version__,
                "other_figures": "nominal",
                "random_numbers": "fresh replications per evaluation (block n: replications n*reps .. n*reps+reps-1); "
                                  "common replications 0 .. reps-1 for the constraint check and the median",
                "method_detail": f"ABC-SMC (pyabc {pyabc.__version__}), triangular priors over the catalog ranges, "
                                 "distance: mean |simulated - observed| fraction over variants"}
    return CalibrationResult(
        figures=names, cases=sorted({t.case for t in targets}), skipped=skipped, priors=priors, samples=X,
        weights=w, summary=summary, trajectory=trajectory, constrained_by=constrained,
        observed=[{"case": t.case, "variant": t.variant, "observation": t.observation, "measure": t.measure,
                   "launched": t.launched, "count": t.count, "fraction": t.observed} for t in targets],
        simulated_at_median=[float(v) for v in y_med], settings=settings, seed=seed, notes=notes,
        known_failures=known)


def plot(result: CalibrationResult, path: Path) -> Path:
    """Prior (triangular density) vs posterior (weighted histogram) per figure, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    F = len(result.figures)
    fig, axes = plt.subplots(1, F, figsize=(4.2 * F, 3.2), squeeze=False)
    for j, name in enumerate(result.figures):
        ax = axes[0, j]
        p = result.priors[name]
        lo, mode, hi = p["low"], p["mode"], p["high"]
        xs = np.linspace(lo, hi, 200)
        dens = np.where(xs < mode, 2 * (xs - lo) / ((hi - lo) * max(mode - lo, 1e-300)),
                        2 * (hi - xs) / ((hi - lo) * max(hi - mode, 1e-300)))
        if mode == lo:
            dens = 2 * (hi - xs) / (hi - lo) ** 2
        elif mode == hi:
            dens = 2 * (xs - lo) / (hi - lo) ** 2
        ax.plot(xs, dens, color="0.4", label="prior (catalog range)")
        ax.hist(result.samples[:, j], bins=min(30, max(5, len(result.weights) // 4)), range=(lo, hi),
                weights=result.weights, density=True, alpha=0.6, color="tab:blue", label="posterior")
        s = result.summary[name]
        ax.axvline(s["median"], color="tab:blue", lw=1.5)
        ax.axvspan(s["q05"], s["q95"], color="tab:blue", alpha=0.1)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("value")
        ax.legend(fontsize=7)
    fig.suptitle(f"calibration against {', '.join(result.cases)} (seed {result.seed})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def calibrated_path() -> Path:
    """The calibrated catalog shipped with iadsim (reviewed and committed by people)."""
    return Path(__file__).resolve().parents[1] / "catalog" / "calibrated.yaml"


CALIBRATED_HEADER = """\
# Calibrated ranges of disputed catalog figures: posteriors of `iadsim validation calibrate
# --write-catalog` against the validation suite. Written by that command, reviewed and committed by
# people; never edit the numbers by hand. A figure enters only when at least two validation cases
# constrain it (never tune a figure to one case). Used by `simulation.uncertainty: sample-calibrated`
# and shown beside the prior by `iadsim catalog show`.
"""


def write_calibrated(result: CalibrationResult, path: Path | None = None, date: str | None = None) -> list[str]:
    """Merge the figures enough cases constrain into the calibrated catalog; the names written."""
    import datetime

    import yaml

    path = Path(path) if path is not None else calibrated_path()
    data = {}
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    systems = data.get("systems") or {}
    date = date or datetime.date.today().isoformat()
    written = []
    for name in result.catalog_ready:
        s, k = name.split(".", 1)
        q = result.summary[name]
        systems.setdefault(s, {})[k] = {
            "value": round(q["median"], 6), "low": round(q["q05"], 6), "high": round(q["q95"], 6),
            "cases": result.supporting(name), "method": result.settings["method_detail"],
            "seed": result.seed, "date": date}
        written.append(name)
    body = yaml.safe_dump({"systems": {s: dict(sorted(v.items())) for s, v in sorted(systems.items())}},
                          sort_keys=False, default_flow_style=False)
    path.write_text(CALIBRATED_HEADER + body, encoding="utf-8")
    return written
