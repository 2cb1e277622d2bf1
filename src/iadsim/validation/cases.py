"""Validation cases: public historical outcomes the whole model is held against.

A case is a folder with ``case.yaml`` (what happened, with sources; the band the model must land
in and why; what the case leaves out) and a scenario built from the public record. The runner
(:mod:`iadsim.validation.runner`) simulates the scenario, once per variant (e.g. raid sizes), and
compares the simulated measure with the band.

Kinds of expectation:

* ``inside``: the model must land inside the band at every variant (and, with ``max_spread``,
  vary across variants by no more than that: a flat dependence);
* ``outside``: a negative control; the model must *not* reproduce the pattern (some variant
  outside the band, or a spread above ``max_spread``).

A case the model cannot reproduce yet stays in the suite with ``known_failure`` set to the reason;
it is run and reported, and does not fail the suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from iadsim.errors import InputError, Problem

#: simulated measures a case can be held against
MEASURES = {
    "destroyed_fraction": "fraction of the threats launched that the defence destroyed",
    "reached_target_fraction": "fraction of the threats launched that reached their target",
}


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Source(_M):
    """A public record the case rests on."""

    publisher: str = Field(min_length=1)
    date: str = Field(min_length=4, description="publication date, ISO 8601 (YYYY-MM-DD or YYYY-MM)")
    title: str = Field(min_length=1)
    url: str | None = None
    note: str | None = None


class Observation(_M):
    """One observed outcome (a count of threats launched and destroyed, or reaching the target)."""

    label: str = Field(min_length=1)
    launched: int = Field(ge=1)
    destroyed: int | None = Field(default=None, ge=0)
    reached_target: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _counts(self) -> "Observation":
        for name in ("destroyed", "reached_target"):
            v = getattr(self, name)
            if v is not None and v > self.launched:
                raise ValueError(f"{name} ({v}) is larger than the number launched ({self.launched})")
        if self.destroyed is None and self.reached_target is None:
            raise ValueError("give `destroyed` or `reached_target`")
        return self


class Band(_M):
    low: float = Field(ge=0.0, le=1.0)
    high: float = Field(ge=0.0, le=1.0)
    max_spread: float | None = Field(default=None, ge=0.0, le=1.0,
                                     description="largest allowed difference between variants (flatness)")
    why: str = Field(min_length=10, description="why this band: the observed values and their uncertainty")

    @model_validator(mode="after")
    def _order(self) -> "Band":
        if self.low > self.high:
            raise ValueError(f"band low ({self.low}) is above band high ({self.high})")
        return self


class Variant(_M):
    label: str = Field(min_length=1)
    set: dict[str, Any] = Field(default_factory=dict,
                                description="scenario fields to set, by path (as `iadsim sweep --vary`)")
    observed: str | None = Field(default=None, description="label of the observation this variant is compared with")


class Case(_M):
    schema_version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    scenario: str = Field(min_length=1, description="scenario file, relative to the case folder")
    measure: Literal["destroyed_fraction", "reached_target_fraction"]
    expect: Literal["inside", "outside"] = "inside"
    observed: list[Observation] = Field(min_length=1)
    band: Band
    variants: list[Variant] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    notional: list[str] = Field(default_factory=list, description="what the record does not give and the case assumes")
    leaves_out: list[str] = Field(min_length=1, description="what the real event had that the case does not model")
    known_failure: str | None = Field(default=None, description="why the model cannot reproduce this case yet")
    replications: int = Field(default=400, ge=10, le=100_000)
    replications_ci: int = Field(default=60, ge=10, le=100_000, description="replications in the CI (reduced) form")

    @model_validator(mode="after")
    def _consistent(self) -> "Case":
        labels = [o.label for o in self.observed]
        for v in self.variants:
            if v.observed is not None and v.observed not in labels:
                raise ValueError(f"variant {v.label!r} refers to observation {v.observed!r}; "
                                 f"observations: {', '.join(labels)}")
        key = "destroyed" if self.measure == "destroyed_fraction" else "reached_target"
        for o in self.observed:
            if getattr(o, key) is None:
                raise ValueError(f"observation {o.label!r} has no {key!r}, which measure {self.measure!r} needs")
        return self


class LoadedCase:
    def __init__(self, case: Case, folder: Path, source: str):
        self.case = case
        self.folder = folder
        self.source = source

    @property
    def scenario_path(self) -> Path:
        return self.folder / self.case.scenario

    def observed_fraction(self, obs: Observation) -> float:
        n = obs.destroyed if self.case.measure == "destroyed_fraction" else obs.reached_target
        return float(n) / obs.launched


def load_case(folder: str | Path) -> LoadedCase:
    """Read and check one case folder; InputError naming the file and field of every problem."""
    from iadsim.scenario.loader import _loc, _expected, format_loc, read_yaml

    folder = Path(folder)
    path = folder / "case.yaml"
    if not path.is_file():
        raise InputError.single(str(folder), "", "not a validation case: case.yaml is missing")
    data = read_yaml(path)
    src = str(path)
    if not isinstance(data, dict):
        raise InputError.single(src, "", "expected a mapping (key: value) at the top level")
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        raise InputError([Problem(src, format_loc(_loc(data, e)) or "(top level)", _expected(e).removeprefix("Value error, "))
                          for e in exc.errors(include_url=False)]) from None
    if case.name != folder.name:
        raise InputError.single(src, "name", f"expected the folder's name {folder.name!r}, got {case.name!r}")
    if not (folder / case.scenario).is_file():
        raise InputError.single(src, "scenario", f"scenario file not found: {folder / case.scenario}")
    return LoadedCase(case, folder, src)


def default_suite() -> Path | None:
    """The suite shipped with iadsim: ``validation/`` at the top of the source tree (or the
    current folder's ``validation/``)."""
    here = Path(__file__).resolve()
    for cand in (Path.cwd() / "validation", here.parents[3] / "validation"):
        if cand.is_dir() and any(cand.glob("*/case.yaml")):
            return cand
    return None


def load_suite(suite: str | Path | None = None, names: list[str] | None = None) -> list[LoadedCase]:
    """Every case of a suite folder (sorted by name), or the named ones; all problems at once."""
    root = Path(suite) if suite is not None else default_suite()
    if root is None or not root.is_dir():
        raise InputError.single(str(suite or "validation/"), "",
                                "validation suite folder not found (give --suite DIR)")
    folders = sorted(p.parent for p in root.glob("*/case.yaml"))
    if names:
        known = {f.name: f for f in folders}
        missing = [n for n in names if n not in known]
        if missing:
            import difflib

            probs = []
            for n in missing:
                close = difflib.get_close_matches(n, list(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                probs.append(Problem(str(root), "", f"no case named {n!r}{hint}; cases: {', '.join(known)}"))
            raise InputError(probs)
        folders = [known[n] for n in names]
    if not folders:
        raise InputError.single(str(root), "", "no cases in this folder (a case is a sub-folder with case.yaml)")
    cases, problems = [], []
    for f in folders:
        try:
            cases.append(load_case(f))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return cases
