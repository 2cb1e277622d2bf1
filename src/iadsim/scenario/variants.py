"""A scenario with some fields set: the options of a scenario, the variants of a validation case.

Fields are named by path as in ``iadsim sweep --vary`` (``effectors[buk].enabled``,
``threats[reaper].altitude_m``, ``threats[0].mission.station.lat``)."""

from __future__ import annotations

import copy
from typing import Any

from iadsim.errors import InputError
from iadsim.scenario.loader import LoadedScenario, scenario_from_dict


def with_fields(ld: LoadedScenario, sets: dict[str, Any], where: str = "set") -> LoadedScenario:
    """``ld`` with each path in ``sets`` set to its value, validated like a scenario file.

    A path that does not exist is an InputError naming ``where`` and the path."""
    from iadsim.montecarlo.sweep import resolve_path, set_at

    if not sets:
        return ld
    dump = copy.deepcopy(ld.scenario.model_dump(mode="json", exclude_none=True))
    # units left out at load are still in the file: a path may turn one back on
    raw_units = getattr(ld, "all_units", None)
    if raw_units:
        dump["effectors"], dump["sensors"] = copy.deepcopy(raw_units)
    for path, value in sets.items():
        try:
            loc, _old = resolve_path(dump, path)
        except ValueError as exc:
            raise InputError.single(ld.source, f"{where}[{path!r}]", str(exc)) from None
        set_at(dump, loc, value)
    label = ", ".join(f"{k}={v}" for k, v in sets.items())
    out = scenario_from_dict(dump, source=f"{ld.source} ({label})", base_dir=ld.base_dir, catalog=ld.catalog)
    out.plugins = list(getattr(ld, "plugins", None) or [])   # the user plugins it was loaded with
    return out
