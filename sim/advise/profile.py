"""Enterprise profiles: one real enterprise described for ``adoptsim advise``, the schema of its
file and the reading of it.

A profile file is YAML whose top level holds ``kind: profile``: that key is what tells a
profile from a scenario (``adoptsim validate`` reads a file with it as a profile, any other file
as a scenario). It says who the enterprise is (sector, region and size band, in the scenario's
names; its ML engineers; optionally its closed vendor, its risk aversion and its leaning toward
open models) and lists its workloads: a name, a workload class, the tokens it uses a month at
the quarter ``as_of``, optionally its stakes, data sensitivity, domain specificity and frontier
need (0..1; a missing one is the class's mean in the scenario advised under), where it runs now
and persistent tastes. How these become the model's inputs is :mod:`sim.advise.enterprise`.

The file is read like every settings file (:mod:`sim.core.settings_file`: capped, UTF-8 text,
duplicate keys refused) and validated strictly (an unknown key, a value of the wrong type or out
of range is an error naming the file, line and key; nothing is written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, ValidationError, create_model, field_validator

from sim.core.kernel import OPTIONS
from sim.core.quarters import HISTORY_END
from sim.core.schema import (
    REGIONS,
    SECTOR_NAMES,
    SIZES,
    WORKLOAD_CLASSES,
    PathName,
    QuarterText,
    Share,
    Strict,
)
from sim.core.settings_file import (
    Origin,
    ScenarioError,
    from_validation_error,
    load_yaml,
    read_yaml,
)

PROFILE_KIND = "profile"
#: The attributes of a workload a profile may give, each defaulting to its class's mean.
WORKLOAD_ATTRIBUTES = ("stakes", "frontier_need", "sensitivity", "domain_specificity")
MAX_WORKLOADS = 200
MAX_MONTHLY_MTOK = 1e9       # a billion million tokens a month: far beyond any enterprise


class Tastes(Strict):
    """A workload's persistent tastes for each deployment, in standard deviations of the
    scenario's ``behaviour.workload_taste_sd`` (0: no idiosyncrasy, the model's average
    workload)."""

    closed: Annotated[float, Field(ge=-5.0, le=5.0)] = 0.0
    open: Annotated[float, Field(ge=-5.0, le=5.0)] = 0.0
    open_finetuned: Annotated[float, Field(ge=-5.0, le=5.0)] = 0.0


def _attribute(what: str):
    return (Share | None, Field(None, description=f"{what}, 0..1 (default: the class's mean)"))


_WorkloadFields = {
    "name": (Annotated[str, Field(min_length=1, max_length=80)],
             Field(description="what the enterprise calls the workload")),
    "class": (Literal[WORKLOAD_CLASSES], Field(description="its workload class in the model")),
    "million_tokens_per_month": (
        Annotated[float, Field(gt=0.0, le=MAX_MONTHLY_MTOK)],
        Field(description="millions of tokens (input and output) it uses a month at the "
                          "profile's as_of quarter")),
    "stakes": _attribute("how much capability matters"),
    "frontier_need": _attribute("how much complex multi-step reasoning matters"),
    "sensitivity": _attribute("data sensitivity (drives the compliance penalty on closed APIs)"),
    "domain_specificity": _attribute("how much fine-tuning on own data helps"),
    "deployment": (Literal[OPTIONS], Field("closed", description="where it runs now")),
    "tastes": (Tastes, Field(default_factory=Tastes)),
}

Workload = create_model(
    "Workload", __base__=Strict,
    __doc__="One workload of a profile (the key ``class`` names its workload class).",
    **_WorkloadFields)


def workload_class(workload) -> str:
    """A profile workload's class (its key ``class`` is a Python keyword)."""
    return getattr(workload, "class")


class Profile(Strict):
    """One enterprise and its workloads.

    ``ml_engineers`` is the number of ML engineers (full-time equivalents) who could run
    open-weight models; it sets the model's ML capacity (:func:`sim.advise.enterprise.ml_capacity`)
    unless ``ml_capacity`` (0..1) is given, when the engineers are informational only.
    ``open_affinity`` is the enterprise's leaning toward open models in the model's standard
    deviations (0: none). ``as_of`` is the quarter the monthly tokens were measured."""

    kind: Literal["profile"] = Field(description="marks the file as a profile")
    name: PathName = Field(description="the profile's name (a folder name under outputs/advise)")
    description: str = ""
    sector: Literal[SECTOR_NAMES]
    region: Literal[REGIONS]
    size: Literal[SIZES]
    ml_engineers: Annotated[float, Field(ge=0.0, le=1e5)] = Field(
        description="ML engineers (FTE) who could run open-weight models")
    ml_capacity: Share | None = Field(
        None, description="the model's ML capacity 0..1, if given instead of derived")
    vendor: str | None = Field(None, description="its main closed vendor, one of the "
                               "scenario's vendors (default: the market's average)")
    risk_aversion: Share | None = Field(
        None, description="0..1 (default: the population's mean)")
    open_affinity: Annotated[float, Field(ge=-5.0, le=5.0)] = 0.0
    as_of: QuarterText = Field(HISTORY_END, description="when the tokens per month were "
                               "measured")
    workloads: list[Workload] = Field(min_length=1, max_length=MAX_WORKLOADS)

    _file: str | None = PrivateAttr(None)
    _origins: dict = PrivateAttr(default_factory=dict)

    @field_validator("workloads")
    @classmethod
    def _distinct_names(cls, workloads: list) -> list:
        seen = set()
        for workload in workloads:
            if workload.name in seen:
                raise ValueError(f"two workloads are named '{workload.name[:40]}'; name each "
                                 "once")
            seen.add(workload.name)
        return workloads

    def problem(self, key_path: str, message: str) -> ScenarioError:
        """An error about the value at ``key_path`` (dotted, list items by index) found after
        loading, naming the file and line that set it."""
        keys = tuple(key_path.split("."))
        origin = next((self._origins[keys[:depth]] for depth in range(len(keys), 0, -1)
                       if keys[:depth] in self._origins), Origin(self._file))
        return ScenarioError(message, origin.file, origin.line, key_path)


def load_profile(path: str | Path) -> Profile:
    """Read and validate a profile file; any problem raises :class:`ScenarioError` naming the
    file, line and key. A key missing from the top level is placed at the file's first key."""
    raw, origins = read_yaml(path)
    lines = [origin.line for keys, origin in origins.items() if len(keys) == 1 and origin.line]
    origins[()] = Origin(str(path), min(lines) if lines else None)
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as error:
        raise from_validation_error(error, origins, Profile) from None
    profile._file, profile._origins = str(path), origins
    return profile


def is_profile_file(path: str | Path) -> bool:
    """Whether ``path`` holds a profile (a top-level ``kind: profile``). A file that cannot be
    read is not one (its reader says why)."""
    try:
        raw = load_yaml(path)
    except ScenarioError:
        return False
    return isinstance(raw, dict) and raw.get("kind") == PROFILE_KIND
