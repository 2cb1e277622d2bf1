"""Effector types: one module per weapon type behind one interface (iadsim.effectors.base), each
compiling a fire unit's engagement into the tables the kernels read. Bundled: missile, gun. A new type
is one module with a class registered by ``@register`` (docs/effectors.md)."""

from iadsim.effectors.base import (
    REGISTRY, EngagementContext, Effector, UnitEngagement, effector_for, register, shot_names, shots_label,
    weapon_type,
)
from iadsim.effectors import missile as _missile  # noqa: F401  (registers 'missile')
from iadsim.effectors import gun as _gun  # noqa: F401  (registers 'gun')

__all__ = ["REGISTRY", "EngagementContext", "Effector", "UnitEngagement", "effector_for", "register",
           "shot_names", "shots_label", "weapon_type"]
