"""Cross-checks of the defence-state fields (emission-control cues, C2 links): every name they give
is a fire unit or sensor of the scenario (enabled or not; a disabled one is simply left out)."""

from __future__ import annotations

import difflib

from iadsim.errors import Problem


def _short(name: str) -> str:
    return repr(name if len(name) <= 40 else name[:37] + "...")


def defstate_problems(scn, source: str) -> list[Problem]:
    """Problems of the names used by ``emcon.cued_by`` and ``c2.links``."""
    units = [e.name for e in scn.effectors] + [x.name for x in scn.sensors]
    known = set(units)
    out: list[Problem] = []

    def need(name: str, path: str, what: str) -> None:
        if name in known:
            return
        close = difflib.get_close_matches(name, units, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        out.append(Problem(source, path, f"unknown {what} {_short(name)}{hint}; expected the name of a fire unit or "
                                         f"sensor: {', '.join(units) or '(none defined)'}"))

    for kind, items in (("effectors", scn.effectors), ("sensors", scn.sensors)):
        for i, u in enumerate(items):
            if u.emcon is None:
                continue
            for j, c in enumerate(u.emcon.cued_by):
                need(c, f"{kind}[{i}].emcon.cued_by[{j}]", "cueing radar")
                if c == u.name:
                    out.append(Problem(source, f"{kind}[{i}].emcon.cued_by[{j}]",
                                       f"{_short(c)} cannot cue itself; name another radar"))
    c2 = getattr(scn, "c2", None)
    if c2 is not None:
        seen: set[str] = set()
        for i, link in enumerate(c2.links):
            need(link.unit, f"c2.links[{i}].unit", "link node")
            if link.unit in seen:
                out.append(Problem(source, f"c2.links[{i}].unit", f"the link of {_short(link.unit)} is given twice"))
            seen.add(link.unit)
            if c2.command_post is not None and link.unit == c2.command_post.name:
                out.append(Problem(source, f"c2.links[{i}].unit", "a link joins a unit to the command post, "
                                                                  "not the command post to itself"))
    if scn.simulation.fidelity == "full":
        from iadsim.engine.defstate import fidelity_problems

        out += fidelity_problems(scn, source)
    return out
