"""The mission interface: every threat behaviour (a scenario's ``mission.kind``) is one class
registered here by its kind.

A mission kind plans a threat's sortie from its scenario entry (:meth:`MissionKind.plan`: the
carrier's path with its marks and any weapons it releases, :class:`iadsim.missions.base.Sortie`),
checks the scenario fields it reads (:meth:`MissionKind.check`, :meth:`MissionKind.check_threat`),
may declare fields of its own (:attr:`MissionKind.params`, a pydantic model: the scenario's
``mission`` mapping carries them beside ``kind``) and says which of three rules counts its sortie
as accomplished (:attr:`MissionKind.accomplished_by`). The scenario's validation, the sortie
planning (:func:`iadsim.missions.plan_sortie`), ``MISSION_KINDS`` and the results' mission table
read this registry: a kind registered by a user module is used like a bundled one.

Adding a threat behaviour: one module with a subclass of :class:`MissionKind` decorated with
:func:`register`, and its tests (a catalog entry only if it flies a new threat type); see
docs/missions.md for a worked example.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from typing import Any, ClassVar

#: the rules that count a sortie as accomplished (iadsim.results.Results.replications):
#: ``station``: the carrier is still flying at the sortie's ``station_end`` mark (time on station
#: counted from ``station_start``); ``release``: it is still flying at its ``release`` mark;
#: ``arrival``: it reaches the asset or site it flies at (``Sortie.target`` or ``Sortie.site``)
ACCOMPLISHED_BY = ("station", "release", "arrival")


class MissionKind(ABC):
    """One threat behaviour. Subclasses set the class attributes and implement :meth:`plan`."""

    #: the scenario's ``mission.kind``
    kind: ClassVar[str] = ""
    #: what counts as accomplished, in words (the report's and the mission tables' words)
    accomplished: ClassVar[str] = ""
    #: the rule behind those words: one of ACCOMPLISHED_BY
    accomplished_by: ClassVar[str] = "arrival"
    #: the carrier returns from its sortie (ISR, strike): no ``threats[].target`` or ``orbit``,
    #: a route of one waypoint (its base) is enough; its members have the role 'carrier'
    returns: ClassVar[bool] = False
    #: the threat flies at ``threats[].target`` (one-way attack): the target is required
    needs_target: ClassVar[bool] = False
    #: it releases weapons (``mission.weapon``, required; ``mission.release``): strike, sead
    releases: ClassVar[bool] = False
    #: the pydantic model of its own fields in the scenario's ``mission`` mapping (None: none)
    params: ClassVar[Any] = None
    #: what the behaviour leaves out (the report prints it as ``mission_<kind>`` when in use)
    model_text: ClassVar[str] = ""

    def check(self, mission) -> None:
        """Raise ValueError when the scenario's ``mission`` (iadsim.scenario.models.Mission) lacks
        what this kind needs (the message names the field; the field path is the mission's)."""

    def check_threat(self, threat) -> None:
        """Raise ValueError when the scenario's threat entry does not fit this kind (beyond the
        rules of :attr:`returns`, :attr:`needs_target` and :attr:`releases`)."""

    @abstractmethod
    def plan(self, thr, ctx):
        """The sortie (:class:`iadsim.missions.base.Sortie`) of scenario threat ``thr`` in the local
        grid of ``ctx`` (:class:`iadsim.missions.base.MissionContext`). ``thr.mission.params`` holds
        the kind's own fields (an instance of :attr:`params`)."""


#: the registered mission kinds, by kind
MISSIONS: dict[str, MissionKind] = {}

#: what each registered kind counts as accomplished (the report and the tables use these words)
MISSION_KINDS: dict[str, str] = {}

#: the scenario's mission fields every kind shares (a kind's own fields may not reuse them)
SHARED_FIELDS = ("kind", "station", "time_on_station_s", "weapon", "egress", "release", "abort_if")


def register(cls: type[MissionKind]) -> type[MissionKind]:
    """Class decorator: register a mission kind under its ``kind`` (a later registration of the
    same kind replaces the earlier one)."""
    kind = getattr(cls, "kind", "")
    if not kind or not isinstance(kind, str):
        raise ValueError(f"{cls.__name__} has no kind")
    if cls.accomplished_by not in ACCOMPLISHED_BY:
        raise ValueError(f"{cls.__name__}.accomplished_by is {cls.accomplished_by!r}; expected one of "
                         f"{', '.join(ACCOMPLISHED_BY)}")
    if not cls.accomplished:
        raise ValueError(f"{cls.__name__} does not say what counts as accomplished (accomplished)")
    if cls.params is not None:
        clash = sorted(set(cls.params.model_fields) & set(SHARED_FIELDS))
        if clash:
            raise ValueError(f"{cls.__name__}.params reuses the shared mission fields {', '.join(clash)}")
    MISSIONS[kind] = cls()
    MISSION_KINDS[kind] = cls.accomplished
    return cls


def mission_for(kind: str) -> MissionKind:
    """The registered mission kind named ``kind`` (KeyError naming the registered kinds if none)."""
    try:
        return MISSIONS[kind]
    except KeyError:
        raise KeyError(f"no registered mission kind {kind!r}; registered: {', '.join(sorted(MISSIONS))}") from None


def unknown_kind_message(kind: str) -> str:
    """The scenario's message for a ``mission.kind`` no module registered."""
    close = difflib.get_close_matches(kind, list(MISSIONS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"unknown mission kind{hint}; expected one of the registered kinds: {', '.join(sorted(MISSIONS))}; "
            "a kind a module adds is registered when that module is imported (docs/missions.md)")


def accomplished_by(kind: str) -> str | None:
    """The accomplishment rule of a sortie's kind (None for 'transit', a released 'weapon' or a
    kind no longer registered)."""
    k = MISSIONS.get(kind)
    return k.accomplished_by if k is not None else None


def is_carrier(kind: str) -> bool:
    """Whether a sortie of this kind returns from its mission (its members' role is 'carrier')."""
    k = MISSIONS.get(kind)
    return k is not None and k.returns


def validate_params(mission) -> Any:
    """The kind's own fields of a scenario ``mission`` (its extra keys) validated by the kind's
    :attr:`MissionKind.params` model; pydantic's errors keep their field paths. A kind without
    fields of its own refuses any extra key as an unknown field."""
    from pydantic import BaseModel, ConfigDict

    k = mission_for(mission.kind)
    extra = dict(mission.model_extra or {})
    if k.params is None:
        if extra:
            class _NoFields(BaseModel):
                model_config = ConfigDict(extra="forbid")

            _NoFields.model_validate(extra)   # raises: unknown field, at its path
        return None
    return k.params.model_validate(extra)


def mission_model_texts(scenario) -> dict[str, str]:
    """What each mission kind in use leaves out (``mission_<kind>``, naming the threats), for the kinds
    that state it."""
    out = {}
    for kind, k in MISSIONS.items():   # a threat with a target and no mission flies the one-way plan
        used = [t.name for t in scenario.threats
                if (t.mission.kind if t.mission is not None else "one-way" if t.target is not None else "") == kind]
        if used and k.model_text:
            out[f"mission_{kind}"] = f"{k.model_text} (threats: {', '.join(used)})"
    return out


def mission_schema(schema: dict) -> None:
    """The JSON schema of the scenario's ``mission`` (pydantic's ``json_schema_extra``): ``kind`` lists
    the registered kinds, and no field is allowed beyond the shared ones (:func:`add_to_schema` adds
    the kinds' own fields)."""
    props = schema.setdefault("properties", {})
    props["kind"] = {**props.get("kind", {}), "enum": sorted(MISSIONS)}
    schema["additionalProperties"] = False


def add_to_schema(schema: dict) -> dict:
    """The scenario's JSON schema with the registered kinds' own fields among the mission's
    properties (each described with its kind)."""
    defs = schema.setdefault("$defs", {})
    mission = defs.get("Mission")
    if mission is None:
        return schema
    mission_schema(mission)
    props = mission["properties"]
    for kind in sorted(MISSIONS):
        model = MISSIONS[kind].params
        if model is None:
            continue
        sub = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(sub.pop("$defs", {}))
        for name, prop in sub.get("properties", {}).items():
            props.setdefault(name, {**prop, "description": f"({kind}) " + prop.get("description", "")})
    return schema
