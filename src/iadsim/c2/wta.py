"""Static weapon-target assignment (WTA): the problem, the policy interface and the registry.

The problem (Andersen, Pavlikov & Toffolo 2022, *Weapon-target assignment problem: exact and
approximate solution algorithms*, Annals of Operations Research, doi:10.1007/s10479-022-04525-6):
``m`` weapon types, type ``i`` with ``capacity[i]`` identical units; ``n`` targets of value
``values[j]``; ``pk[i, j]`` the probability that one unit of type ``i`` destroys target ``j``
(independently). Choose integers ``x[i, j] >= 0`` with ``sum_j x[i, j] <= capacity[i]`` that
minimise the expected surviving value::

    sum_j values[j] * prod_i (1 - pk[i, j]) ** x[i, j]

In iadsim's engine a "weapon type" is a fire unit (capacity = free channels or ready missiles)
and a target is a threat track. Pairs that cannot engage have ``pk = 0`` or are ``False`` in the
optional ``mask``; an optional ``max_per_target[j]`` caps the units fired at target ``j``.

A *policy* is any callable ``policy(problem, *, time_limit_s=None, seed=0) -> WTASolution``.
The built-in ones are ``"greedy"`` (maximum marginal return), ``"vlns"`` (greedy start plus an
iterated large-neighbourhood local search) and ``"exact"`` (outer approximation with HiGHS,
proves optimality). Every built-in policy runs on a work budget (iterations, MILP rounds and
branch-and-bound nodes), never on a clock: the same problem and seed give the same assignment on
any machine, however loaded. ``time_limit_s`` is only an optional safety cap, off (None) by
default and never set on a result path (the engine passes None). Register your own with
:func:`register_policy`::

    >>> import numpy as np
    >>> from iadsim.c2.wta import WTAProblem, WTASolution, register_policy, solve, unregister_policy
    >>> def first_fit(problem, *, time_limit_s=None, seed=0):
    ...     # every unit of every type at its own best target (ignores overkill)
    ...     x = np.zeros((problem.m, problem.n), dtype=np.int64)
    ...     best = np.argmax(problem.effective_pk, axis=1)
    ...     x[np.arange(problem.m), best] = problem.capacity
    ...     if problem.max_per_target is not None:
    ...         raise NotImplementedError("first_fit ignores max_per_target")
    ...     return WTASolution.from_x(problem, x, policy="first_fit")
    >>> _ = register_policy("first_fit", first_fit)
    >>> prob = WTAProblem(values=[10.0, 5.0], pk=[[0.5, 0.2], [0.1, 0.9]], capacity=[1, 1])
    >>> sol = solve(prob, "first_fit")
    >>> sol.x.tolist(), round(sol.objective, 6)
    ([[1, 0], [0, 1]], 5.5)
    >>> unregister_policy("first_fit")

:func:`solve` looks the policy up, runs it and checks the returned assignment (shape,
integrality, capacities, mask, per-target limits, objective), so a user policy is held to the
same contract as the built-in ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol, runtime_checkable

import numba
import numpy as np

from iadsim.errors import InputError

__all__ = [
    "POLICIES", "WTAPolicy", "WTAProblem", "WTASolution", "check_assignment", "get_policy",
    "greedy", "greedy_units", "objective", "random_instance", "read_instance", "register_policy",
    "solve", "unregister_policy",
]

# probabilities are clipped to this inside the search kernels so that 1 - p > 0 (the reported
# objective is always recomputed exactly by objective())
PK_CLIP = 1.0 - 1e-12


def _as_int_array(a, name: str, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(a)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr.astype(float))):
        raise ValueError(f"{name} must be finite")
    ia = np.asarray(np.rint(arr.astype(float)), dtype=np.int64)
    if arr.size and np.any(ia != arr):
        raise ValueError(f"{name} must hold integers")
    if np.any(ia < 0):
        raise ValueError(f"{name} must be >= 0")
    return ia


@dataclass(frozen=True, eq=False)
class WTAProblem:
    """A static WTA instance. Arrays are copied and validated on construction.

    values          [n] float >= 0, target values
    pk              [m, n] float in [0, 1], single-shot kill probability of a unit of type i on j
    capacity        [m] int >= 0, units of each type (fire unit channels or ready missiles)
    mask            optional [m, n] bool, False where type i cannot engage target j
    max_per_target  optional [n] int >= 0, at most this many units on target j
    name            optional label (file stem for published instances)
    """

    values: np.ndarray
    pk: np.ndarray
    capacity: np.ndarray
    mask: np.ndarray | None = None
    max_per_target: np.ndarray | None = None
    name: str = ""

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=np.float64, ndmin=1)
        if values.ndim != 1:
            raise ValueError(f"values must be 1-D, got shape {values.shape}")
        n = values.shape[0]
        pk = np.array(self.pk, dtype=np.float64)
        if pk.size == 0 and pk.ndim != 2:
            pk = np.zeros((0, n))
        if pk.ndim != 2 or pk.shape[1] != n:
            raise ValueError(f"pk must have shape [m, {n}], got {pk.shape}")
        m = pk.shape[0]
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError("values must be finite and >= 0")
        if not np.all(np.isfinite(pk)) or np.any(pk < 0) or np.any(pk > 1):
            raise ValueError("pk must be in [0, 1]")
        capacity = _as_int_array(self.capacity, "capacity", (m,))
        mask = None
        if self.mask is not None:
            mask = np.array(self.mask, dtype=bool)
            if mask.shape != (m, n):
                raise ValueError(f"mask must have shape {(m, n)}, got {mask.shape}")
        mpt = None
        if self.max_per_target is not None:
            mpt = _as_int_array(self.max_per_target, "max_per_target", (n,))
        for k, v in (("values", values), ("pk", pk), ("capacity", capacity), ("mask", mask),
                     ("max_per_target", mpt)):
            if v is not None:
                v.setflags(write=False)
            object.__setattr__(self, k, v)

    @property
    def m(self) -> int:
        """Number of weapon types (fire units)."""
        return self.pk.shape[0]

    @property
    def n(self) -> int:
        """Number of targets."""
        return self.values.shape[0]

    @property
    def allowed(self) -> np.ndarray:
        """[m, n] bool: pairs worth engaging (in the mask and pk > 0)."""
        a = self.pk > 0
        return a if self.mask is None else a & self.mask

    @property
    def effective_pk(self) -> np.ndarray:
        """[m, n] pk with masked pairs set to 0."""
        return self.pk if self.mask is None else np.where(self.mask, self.pk, 0.0)

    @property
    def total_value(self) -> float:
        return float(self.values.sum())

    def target_limits(self) -> np.ndarray:
        """[n] int64 per-target unit limits (a large number where there is none)."""
        big = int(self.capacity.sum()) + 1
        if self.max_per_target is None:
            return np.full(self.n, big, dtype=np.int64)
        return np.minimum(self.max_per_target, big).astype(np.int64)

    def __repr__(self) -> str:
        extra = []
        if self.mask is not None:
            extra.append(f"masked={int((~self.mask).sum())}")
        if self.max_per_target is not None:
            extra.append("max_per_target")
        label = f"{self.name!r}, " if self.name else ""
        return (f"WTAProblem({label}m={self.m}, n={self.n}, units={int(self.capacity.sum())}"
                + "".join(", " + e for e in extra) + ")")


@dataclass
class WTASolution:
    """What a policy returns.

    x               [m, n] int64 units of type i assigned to target j
    objective       expected surviving value of x (objective(problem, x))
    lower_bound     a proven lower bound on the optimum, or None
    proven_optimal  True only if the policy proved x optimal (within its stated tolerance)
    time_s          wall time of the policy, measured by :func:`solve` (a diagnostic: policies
                    themselves read no clock unless given a ``time_limit_s`` safety cap)
    policy          its registered name
    info            free-form diagnostics (iterations, cuts, stop reason, ...)
    """

    x: np.ndarray
    objective: float
    lower_bound: float | None = None
    proven_optimal: bool = False
    time_s: float = 0.0
    policy: str = ""
    info: dict = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative gap (objective - lower_bound) / objective, or None without a bound."""
        if self.lower_bound is None:
            return None
        if self.objective <= 0:
            return 0.0
        return max(0.0, (self.objective - self.lower_bound) / self.objective)

    @classmethod
    def from_x(cls, problem: WTAProblem, x, *, policy: str, time_s: float = 0.0,
               lower_bound: float | None = None, proven_optimal: bool = False,
               info: dict | None = None) -> WTASolution:
        """Build a solution from an assignment, computing its objective exactly."""
        x = np.asarray(x, dtype=np.int64)
        return cls(x=x, objective=objective(problem, x), lower_bound=lower_bound,
                   proven_optimal=proven_optimal, time_s=time_s, policy=policy, info=info or {})


@runtime_checkable
class WTAPolicy(Protocol):
    """``policy(problem, *, time_limit_s=None, seed=0) -> WTASolution``.

    A policy runs on its own work budget (iterations, nodes) so that its answer is a function of
    ``(problem, seed)`` only. ``time_limit_s`` is an optional wall-clock safety cap (None: off,
    the default and what the engine passes); a policy given one may stop earlier on a loaded
    machine, so a result path never sets it. ``seed`` makes any randomised policy reproducible.
    """

    def __call__(self, problem: WTAProblem, *, time_limit_s: float | None = None,
                 seed: int = 0) -> WTASolution: ...


def objective(problem: WTAProblem, x) -> float:
    """Expected surviving value ``sum_j v_j prod_i (1 - p_ij)^x_ij`` (masked pairs count p = 0)."""
    x = np.asarray(x)
    if x.shape != (problem.m, problem.n):
        raise ValueError(f"x must have shape {(problem.m, problem.n)}, got {x.shape}")
    q = 1.0 - problem.effective_pk
    surv = np.prod(np.power(q, x.astype(np.float64)), axis=0) if problem.m else np.ones(problem.n)
    return float(problem.values @ surv)


def check_assignment(problem: WTAProblem, x) -> list[str]:
    """Problems with ``x`` as a feasible assignment (empty list if feasible)."""
    x = np.asarray(x)
    if x.shape != (problem.m, problem.n):
        return [f"x has shape {x.shape}, expected {(problem.m, problem.n)}"]
    errs = []
    if not np.issubdtype(x.dtype, np.integer) and (not np.all(np.isfinite(x))
                                                   or np.any(x != np.rint(x))):
        return ["x is not integer"]
    if np.any(x < 0):
        errs.append("x has negative entries")
    used = x.sum(axis=1)
    over = np.nonzero(used > problem.capacity)[0]
    if over.size:
        errs.append(f"capacity exceeded for types {over[:10].tolist()}")
    if problem.mask is not None and np.any(x[~problem.mask] != 0):
        errs.append("units assigned to masked pairs")
    if problem.max_per_target is not None:
        bad = np.nonzero(x.sum(axis=0) > problem.max_per_target)[0]
        if bad.size:
            errs.append(f"max_per_target exceeded for targets {bad[:10].tolist()}")
    return errs


# ---------------------------------------------------------------------------------------------
# registry

_REGISTRY: dict[str, Callable[..., WTASolution]] = {}
POLICIES: Mapping[str, Callable[..., WTASolution]] = MappingProxyType(_REGISTRY)
"""Read-only view of the registered policies, name -> callable (use register_policy to add)."""


def register_policy(name: str, fn: Callable[..., WTASolution] | None = None, *,
                    replace: bool = False):
    """Register ``fn`` as policy ``name``; returns ``fn``. Also usable as a decorator::

        @register_policy("mine")
        def mine(problem, *, time_limit_s=None, seed=0): ...

    Registering an existing name raises ValueError unless ``replace=True``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("policy name must be a non-empty string")

    def deco(f):
        if not callable(f):
            raise TypeError(f"policy {name!r} must be callable, got {type(f).__name__}")
        if name in _REGISTRY and not replace and _REGISTRY[name] is not f:
            raise ValueError(f"policy {name!r} is already registered (pass replace=True)")
        _REGISTRY[name] = f
        return f

    return deco if fn is None else deco(fn)


def unregister_policy(name: str) -> None:
    """Remove a registered policy (unknown name -> ValueError)."""
    get_policy(name)
    del _REGISTRY[name]


def get_policy(name: str) -> Callable[..., WTASolution]:
    """The policy registered as ``name``; an unknown name raises ValueError listing valid ones."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(_REGISTRY)) or "(none)"
        raise ValueError(f"unknown WTA policy {name!r}; valid policies: {valid}") from None


def solve(problem: WTAProblem, policy: str | Callable[..., WTASolution] = "vlns", *,
          time_limit_s: float | None = None, seed: int = 0) -> WTASolution:
    """Run a policy (name or callable) and check its answer: feasibility and objective.

    ``sol.time_s`` is the policy's wall time measured here (a diagnostic, never an input to the
    policy); ``time_limit_s`` is passed on as the policy's optional safety cap (None: off)."""
    fn = get_policy(policy) if isinstance(policy, str) else policy
    t0 = time.perf_counter()
    sol = fn(problem, time_limit_s=time_limit_s, seed=seed)
    wall = time.perf_counter() - t0
    if not isinstance(sol, WTASolution):
        raise TypeError(f"policy {policy!r} returned {type(sol).__name__}, not WTASolution")
    errs = check_assignment(problem, sol.x)
    if errs:
        raise ValueError(f"policy {policy!r} returned an infeasible assignment: " + "; ".join(errs))
    true = objective(problem, sol.x)
    if not np.isclose(sol.objective, true, rtol=1e-9, atol=1e-9):
        raise ValueError(f"policy {policy!r} reported objective {sol.objective} but x gives {true}")
    if sol.time_s <= 0:
        sol.time_s = wall
    return sol


# ---------------------------------------------------------------------------------------------
# instances

def read_instance(path: str | Path) -> WTAProblem:
    """Read the published format: ``m n mu``; n target values; m*n lines ``i j p`` (0-based)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError.single(path, "", f"cannot read WTA instance: {e.strerror or e}") from None
    tok = text.split()
    try:
        m, n, mu = (int(t) for t in tok[:3])
    except ValueError:
        raise InputError.single(path, "line 1", "expected 'm n mu' (three integers)") from None
    if len(tok) < 3 or m < 0 or n < 0 or mu < 0:
        raise InputError.single(path, "line 1", "expected 'm n mu' (three integers >= 0)")
    need = 3 + n + 3 * m * n
    if len(tok) != need:
        raise InputError.single(path, "", f"expected {need} numbers for m={m}, n={n}, "
                                          f"found {len(tok)}")
    try:
        values = np.array(tok[3:3 + n], dtype=np.float64)
        trip = np.array(tok[3 + n:], dtype=np.float64).reshape(m * n, 3)
    except ValueError as e:
        raise InputError.single(path, "", f"not a number: {e}") from None
    ii, jj = trip[:, 0].astype(np.int64), trip[:, 1].astype(np.int64)
    if (np.any(ii != trip[:, 0]) or np.any(jj != trip[:, 1]) or np.any(ii < 0) or np.any(ii >= m)
            or np.any(jj < 0) or np.any(jj >= n)):
        raise InputError.single(path, "", "pair indices out of range")
    seen = np.zeros((m, n), dtype=bool)
    seen[ii, jj] = True
    if not seen.all():
        raise InputError.single(path, "", "every pair (i, j) must appear once")
    pk = np.zeros((m, n))
    pk[ii, jj] = trip[:, 2]
    try:
        return WTAProblem(values=values, pk=pk, capacity=np.full(m, mu), name=path.stem)
    except ValueError as e:
        raise InputError.single(path, "", str(e)) from None


def random_instance(m: int, n: int, *, seed: int = 0, capacity: int = 1,
                    value_range: tuple[float, float] = (25.0, 100.0),
                    pk_range: tuple[float, float] = (0.60, 0.90)) -> WTAProblem:
    """A random instance in the style of Ahuja et al. (2007): values U[25, 100], pk U[0.6, 0.9]."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(*value_range, size=n)
    pk = rng.uniform(*pk_range, size=(m, n))
    return WTAProblem(values=values, pk=pk, capacity=np.full(m, capacity),
                      name=f"random_{m}x{n}x{capacity}_s{seed}")


def internal_arrays(problem: WTAProblem):
    """Float/int arrays the kernels use: values, p (clipped, 0 where not allowed), allowed,
    capacity, per-target limits."""
    allowed = problem.allowed
    p = np.where(allowed, np.minimum(problem.pk, PK_CLIP), 0.0)
    return (np.ascontiguousarray(problem.values, dtype=np.float64), np.ascontiguousarray(p),
            np.ascontiguousarray(allowed), np.ascontiguousarray(problem.capacity, dtype=np.int64),
            problem.target_limits())


# ---------------------------------------------------------------------------------------------
# greedy maximum marginal return

@numba.njit(cache=True)
def _greedy_kernel(values, p, allowed, cap, limit, s, x, rem, cnt):  # pragma: no cover - numba
    """Maximum marginal return, lazily: stored row maxima only ever over-estimate (gains fall),
    so the type with the largest stored gain is re-scanned until its stored gain is current."""
    m, n = p.shape
    ver = np.zeros(n, np.int64)          # bumped when target j's surviving value or room changes
    best_j = np.full(m, -1, np.int64)
    best_g = np.zeros(m)
    best_v = np.zeros(m, np.int64)
    for i in range(m):
        best_g[i] = np.inf  # force a scan on first use
    while True:
        bi = -1
        bg = 0.0
        for i in range(m):
            if rem[i] > 0 and best_g[i] > bg:
                bg = best_g[i]
                bi = i
        if bi < 0:
            break
        j = best_j[bi]
        if j < 0 or best_v[bi] != ver[j] or best_g[bi] == np.inf:
            # stale: rescan row bi
            g0 = 0.0
            k0 = -1
            for k in range(n):
                if allowed[bi, k] and cnt[k] < limit[k]:
                    g = s[k] * p[bi, k]
                    if g > g0:
                        g0 = g
                        k0 = k
            best_g[bi] = g0
            best_j[bi] = k0
            if k0 >= 0:
                best_v[bi] = ver[k0]
            continue
        x[bi, j] += 1
        rem[bi] -= 1
        s[j] *= 1.0 - p[bi, j]
        cnt[j] += 1
        ver[j] += 1
        best_v[bi] = -1  # the chosen type must rescan (its own entry is now stale)
        best_g[bi] = best_g[bi] if rem[bi] > 0 else 0.0


def greedy_assign(problem: WTAProblem, x0: np.ndarray | None = None) -> np.ndarray:
    """Maximum-marginal-return assignment (optionally completing a partial assignment x0)."""
    values, p, allowed, cap, limit = internal_arrays(problem)
    x = np.zeros((problem.m, problem.n), np.int64) if x0 is None else np.array(x0, np.int64)
    s = values * np.prod(np.power(1.0 - p, x), axis=0) if problem.m else values.copy()
    rem = cap - x.sum(axis=1)
    cnt = x.sum(axis=0).astype(np.int64)
    if problem.m and problem.n:
        _greedy_kernel(values, p, allowed, cap, limit, s, x, rem, cnt)
    return x


@numba.njit(cache=True)
def greedy_units(values, P, assign):  # pragma: no cover - numba
    """The engine's form of the same greedy (one implementation: :func:`_greedy_kernel`).

    Every row of ``P`` is one unit (capacity 1, no per-target limit): ``assign[e]`` gets the
    column unit ``e`` fires at, or -1. ``values[q]`` [1] are the candidates' values and
    ``P[e, q]`` [1] the kill probabilities (0 where unit e cannot engage q). ``P`` is used
    unclipped: a sure kill leaves no gain on its target, so no further unit goes there. Used by
    the compiled engine's "greedy" policy (:mod:`iadsim.engine.kernel`)."""
    E = P.shape[0]
    n = P.shape[1]
    for e in range(E):
        assign[e] = -1
    if E == 0 or n == 0:
        return
    p = np.empty((E, n), np.float64)
    allowed = np.empty((E, n), np.bool_)
    for e in range(E):
        for q in range(n):
            p[e, q] = P[e, q]
            allowed[e, q] = P[e, q] > 0.0
    cap = np.ones(E, np.int64)
    rem = np.ones(E, np.int64)
    limit = np.full(n, E + 1, np.int64)
    s = np.empty(n, np.float64)
    for q in range(n):
        s[q] = values[q]
    cnt = np.zeros(n, np.int64)
    x = np.zeros((E, n), np.int64)
    _greedy_kernel(s.copy(), p, allowed, cap, limit, s, x, rem, cnt)
    for e in range(E):
        for q in range(n):
            if x[e, q] > 0:
                assign[e] = q
                break


def greedy(problem: WTAProblem, *, time_limit_s: float | None = None, seed: int = 0) -> WTASolution:
    """Greedy maximum marginal return (den Broeder, Ellison & Emerling 1959; Kleinrock 1964).

    One unit at a time goes to the (type, target) pair with the largest decrease of the
    objective, ``s_j * p_ij`` where ``s_j`` is target j's current expected surviving value.
    Deterministic (ties: lowest type index, then lowest target index); ignores time and seed and
    reads no clock. The compiled engine's "greedy" policy runs the same kernel
    (:func:`greedy_units`).
    """
    x = greedy_assign(problem)
    return WTASolution.from_x(problem, x, policy="greedy", info={"stopped_by": "complete"})


register_policy("greedy", greedy)
