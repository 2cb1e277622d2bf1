"""The exchange ratio of a run: the value of the threats the defence destroyed against the value of
the interceptors it fired, from the per-item costs in the catalog (``unit_cost_usd`` of each threat,
``missile_cost_usd`` of each fire unit's interceptor; a gun unit's "missile" is one burst).

Both sums are per replication; the ratio is the ratio of their means over the replications
(a ratio estimator), with a 95 % interval by the delta method, and the reverse ratio likewise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: what the exchange ratio leaves out (printed with the other models' limits)
EXCHANGE_LIMITS = ("the exchange ratio counts the catalog cost of each threat destroyed (a released weapon "
                   "included) and of each interceptor fired (dollars of the years the sources quote, not "
                   "converted); it leaves out launchers, radars, crews, operating costs, the value of what "
                   "the defence protected or lost, and the uncertainty of the cost figures themselves")


def ratio_interval(num: np.ndarray, den: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Ratio of means mean(num) / mean(den) of paired per-replication samples, with its
    confidence interval by the delta method (first-order Taylor expansion of the ratio; e.g.
    Cochran, *Sampling Techniques*, 3rd ed., 1977, sec. 6.3, eq. 6.9 for the variance of a ratio
    estimator). NaN where mean(den) is 0; a single replication gives the ratio as both bounds."""
    from scipy import stats

    x = np.asarray(num, dtype=float)
    y = np.asarray(den, dtype=float)
    n = x.size
    if n == 0 or y.mean() == 0:
        return float("nan"), float("nan"), float("nan")
    mx, my = x.mean(), y.mean()
    r = mx / my
    if n < 2:
        return float(r), float(r), float(r)
    # residuals d_i = x_i - r y_i; var(r) ~ var(d) / (n mean(y)^2)
    d = x - r * y
    se = float(np.sqrt(d.var(ddof=1) / n) / abs(my))
    z = stats.norm.ppf(0.5 + confidence / 2.0)
    return float(r), float(max(r - z * se, 0.0)), float(r + z * se)


def cost_of(catalog, system: str, key: str) -> dict[str, Any] | None:
    """A cost figure of a catalog system as a record (value, low, high, source, confidence), or
    None when the catalog has none."""
    sysm = catalog[system]
    if key not in sysm.figures:
        return None
    f = sysm.figures[key]
    return {"system": sysm.name, "figure": key, "value_usd": float(f.value),
            "low_usd": float(f.low if f.low is not None else f.value),
            "high_usd": float(f.high if f.high is not None else f.value),
            "source": f.source, "confidence": f.confidence, "estimate": f.confidence == "estimate"}


def exchange(world, kill_step: np.ndarray, expended: np.ndarray) -> dict[str, Any]:
    """The exchange ratio of a run from its per-replication kills [R, M] (steps, -1 none) and
    missiles expended [R, E]."""
    cat = world.loaded.catalog
    costs: list[dict[str, Any]] = []
    missing: list[str] = []

    def per_item(systems, key: str, role: str) -> np.ndarray:
        """The cost ``key`` of each item's catalog system [USD] (0 where the catalog has none,
        which ``missing`` then names); each system's figure listed once in ``costs``."""
        seen: dict[str, float | None] = {}
        out = np.zeros(len(systems))
        for i, name in enumerate(systems):
            if name not in seen:
                rec = cost_of(cat, name, key)
                seen[name] = rec["value_usd"] if rec else None
                if rec:
                    costs.append({"role": role, **rec})
                else:
                    missing.append(f"{cat[name].name}.{key}")
            out[i] = seen[name] or 0.0
        return out

    threat_cost = per_item(world.threat_type, "unit_cost_usd", "threat")
    eff_cost = per_item(world.effector_system, "missile_cost_usd", "interceptor")
    ew = getattr(world, "ew", None)
    if ew is not None and ew.has_decoys:
        # a decoy is spent whether or not it is shot down: shooting it destroys no value
        threat_cost[ew.decoy_p >= 0.0] = 0.0
    lost = (kill_step >= 0) @ threat_cost                # [R] value of the threats destroyed [USD]
    spent = expended.astype(float) @ eff_cost            # [R] value of the interceptors fired [USD]
    out: dict[str, Any] = {"costs": costs, "missing": missing, "ratio": None, "ratio_lo": None,
                           "ratio_hi": None, "reverse": None, "reverse_lo": None, "reverse_hi": None}
    from iadsim.results.stats import mean_interval

    miss_t = any(k.endswith(".unit_cost_usd") for k in missing)
    miss_e = any(k.endswith(".missile_cost_usd") for k in missing)
    for name, x, gap in (("threats_destroyed_usd", lost, miss_t), ("interceptors_fired_usd", spent, miss_e)):
        # per replication, mean and 95% interval; None where a cost figure of that side is missing
        m, lo, hi = mean_interval(x) if len(x) and not gap else (None, None, None)
        out[name], out[f"{name}_lo"], out[f"{name}_hi"] = (None if v is None or not np.isfinite(v) else float(v)
                                                            for v in (m, lo, hi))
    if missing:
        out["note"] = "no cost figure for " + ", ".join(missing)
        return out
    r = ratio_interval(lost, spent)
    v = ratio_interval(spent, lost)
    out["ratio"], out["ratio_lo"], out["ratio_hi"] = (None if not np.isfinite(r[0]) else float(x) for x in r)
    out["reverse"], out["reverse_lo"], out["reverse_hi"] = (None if not np.isfinite(v[0]) else float(x) for x in v)
    if out["ratio"] is None:
        out["note"] = "no interceptor fired"
    elif out["reverse"] is None:
        out["note"] = "no threat destroyed"
    return out
