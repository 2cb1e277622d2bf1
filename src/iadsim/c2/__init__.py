"""Command and control: static weapon-target assignment (WTA) policies.

    >>> from iadsim.c2 import WTAProblem, solve
    >>> prob = WTAProblem(values=[10.0, 5.0], pk=[[0.5, 0.2], [0.1, 0.9]], capacity=[1, 1])
    >>> sol = solve(prob, "exact")
    >>> sol.x.tolist(), round(sol.objective, 3), sol.proven_optimal
    ([[1, 0], [0, 1]], 5.5, True)

Built-in policies: ``"greedy"`` (maximum marginal return), ``"vlns"`` (very large-scale
neighbourhood search, the default of :func:`solve`) and ``"exact"`` (outer approximation with
HiGHS). See :mod:`iadsim.c2.wta` for the interface and how to register a policy.
"""

from iadsim.c2.wta import (
    POLICIES,
    WTAPolicy,
    WTAProblem,
    WTASolution,
    check_assignment,
    get_policy,
    greedy,
    objective,
    random_instance,
    read_instance,
    register_policy,
    solve,
    unregister_policy,
)
from iadsim.c2.wta_exact import exact  # registers "exact"
from iadsim.c2.wta_vlns import vlns  # registers "vlns"

__all__ = [
    "POLICIES", "WTAPolicy", "WTAProblem", "WTASolution", "check_assignment", "exact",
    "get_policy", "greedy", "objective", "random_instance", "read_instance", "register_policy",
    "solve", "unregister_policy", "vlns",
]
