"""The scenario file, top to bottom (spec, "Top level" to "acceptance")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from poc_runner.model.checks import FIGURED_CHECKS, Check, DurationCheck
from poc_runner.model.comparison import ORDERING_OPERATORS, Comparison, pending_secret
from poc_runner.model.compose import ComposeRef, NamedVolume
from poc_runner.model.data import FIXED_UNIT, DataCheck, natural_unit
from poc_runner.model.services import Service
from poc_runner.model.types import (
    Command,
    ContainerPath,
    Duration,
    EnvMap,
    Identifier,
    MountPath,
    NetworkName,
    ScalarText,
    ScenarioName,
    ScenarioPath,
    ServiceName,
    Strict,
    Text,
    VarName,
    as_list,
    as_number,
    env_as_dict,
    error,
    show,
)
from poc_runner.units import parse_duration


class Prospect(Strict):
    name: Text
    industry: Text | None = None


class Stakeholder(Strict):
    role: Text
    wants: Text


class Job(Strict):
    """The job the prospect hires the product for, in their words."""

    statement: Text
    current_solution: Text | None = None
    stakeholders: list[Stakeholder] = Field(default_factory=list)


# The scenario's `sandbox:` block: settings, not the sandbox itself (backend.Sandbox is that).
# Editors show it with the title the format has always given it.
class SandboxSettings(Strict):
    model_config = ConfigDict(title="Sandbox")

    network: Literal["isolated", "egress"] = "isolated"
    timeout: Duration = 30 * 60.0


class DataItem(Strict):
    name: Text
    path: ScenarioPath
    mount: MountPath
    services: list[ServiceName] | None = None


class Step(Strict):
    name: Identifier
    service: ServiceName
    run: Command
    timeout: Duration = 5 * 60.0
    env: EnvMap = Field(default_factory=dict)
    workdir: ContainerPath | None = None
    artifacts: list[ContainerPath] = Field(default_factory=list)
    continue_on_error: bool = False

    @property
    def environment(self) -> dict[str, str]:
        return env_as_dict(self.env)


class Baseline(Strict):
    """How the prospect's current solution scores on the criterion."""

    value: float | str
    note: Text | None = None
    max_factor: Annotated[
        float,
        Field(
            ge=1,
            description="the largest improvement factor the reports write as it is; above it"
            " they write 'over 100x' (with the default of 100)",
        ),
    ] = 100.0
    remainder: Annotated[
        Text | None,
        Field(
            description="for a rate (unit % or ratio): what the rest of it is called, so an"
            " improvement reads on what is left to do ('unmatched: 8% → 0.3%, 27x fewer');"
            " default: 'the rest'"
        ),
    ] = None


class Near(Comparison):
    """Where a criterion not met is close (spec, "acceptance": `near`): amber, no points."""

    @classmethod
    def quantity(cls, value: Any) -> float | None:
        """A number or, for a check measured in seconds, a duration such as 2m."""
        if pending_secret(value) or as_number(value) is not None:
            return super().quantity(value)
        try:
            return parse_duration(value)
        except ValueError:
            return super().quantity(value)


# What the check types with a figure of their own measure: `unit` would only contradict it.
_OWN_MEASURE = {
    "exit_code": "an exit code",
    "command": "an exit code",
    "output": "text",
    "file": "bytes",
    "http": "a status and a latency in ms",
    "duration": "seconds",
    "isolation": "whether anything can leave",
    "schema": "columns",
}


_SECONDS = ("duration", "s")


class Criterion(Strict):
    id: Identifier
    title: Text | None = None
    for_: Annotated[list[Text], BeforeValidator(as_list)] = Field(default_factory=list, alias="for")
    weight: Annotated[float, Field(ge=0)] = 1.0
    must: bool = False
    unit: Annotated[
        Text | None,
        Field(
            description="how the measured value reads: EUR, %, ratio (shown as a percentage),"
            " rows, ms, s, min, h, ... (json, metric, sql and csv checks; duration: s)"
        ),
    ] = None
    headline: Annotated[
        bool, Field(description="one of the few figures the executive summary leads with")
    ] = False
    baseline: Baseline | None = None
    near: Annotated[
        Near | None,
        Field(
            description="when the check is not met but its measured value satisfies this, the"
            " criterion is close: amber in every report, no points"
        ),
    ] = None
    check: Check

    @model_validator(mode="after")
    def _near_has_a_figure(self) -> Criterion:
        if self.near is None:
            return self
        kind = self.check.type
        if kind not in FIGURED_CHECKS:
            raise error(
                "near",
                f"{article(kind)} {kind} check is met or not, with no figure to be close on:"
                " leave `near` out",
            )
        bounds = self.near.value if self.near.op == "between" else [self.near.value]
        if not self.in_seconds and self.near.op in ORDERING_OPERATORS:
            for bound in bounds:
                if as_number(bound) is None and not pending_secret(bound):
                    raise error("near", f"{show(bound)} is not a number")
        return self

    @property
    def in_seconds(self) -> bool:
        """Its figure is a time in seconds: bounds and baseline may be durations (2m)."""
        check = self.check
        return isinstance(check, DurationCheck) or (
            isinstance(check, DataCheck) and check.metric == "freshness"
        )

    @model_validator(mode="after")
    def _unit_fits_the_check(self) -> Criterion:
        kind: str = self.check.type
        check = self.check
        if isinstance(check, DataCheck) and check.metric in FIXED_UNIT:
            measures, kind = FIXED_UNIT[check.metric], check.metric
            if self.unit in (None, natural_unit(check)):
                return self
        elif (
            self.unit is None or kind not in _OWN_MEASURE or (kind, self.unit) == ("duration", "s")
        ):
            return self
        else:
            measures = _OWN_MEASURE[kind]
        hint = " (or say `unit: s`)" if self.in_seconds else ""
        raise error(
            "unit", f"{article(kind)} {kind} check measures {measures}, so leave `unit` out{hint}"
        )

    @model_validator(mode="after")
    def _baseline_is_a_measure(self) -> Criterion:
        if self.baseline is None:
            return self
        value = self.baseline.value
        if self.in_seconds:
            try:
                parse_duration(value)
            except ValueError as exc:
                raise error("baseline", f"baseline value: {exc}") from None
        elif as_number(value) is None:
            raise error("baseline", f"baseline value {show(value)} is not a number")
        return self


class Acceptance(Strict):
    pass_score: Annotated[float, Field(ge=0, le=100)] = 100.0
    criteria: list[Criterion] = Field(default_factory=list)


class Scenario(Strict):
    """One proof of concept: the prospect's job, their data, the stack, the steps, the criteria."""

    api_version: Literal["poc-runner/v1"] = Field(alias="apiVersion")
    name: ScenarioName
    title: Text | None = None
    prospect: Prospect | None = None
    job: Job | None = None
    vars: dict[VarName, ScalarText] = Field(default_factory=dict)
    secrets: list[VarName] = Field(default_factory=list)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    data: list[DataItem] = Field(default_factory=list)
    compose: ComposeRef | None = None  # services from Compose files, merged under `services`
    services: dict[NetworkName, Service] = Field(default_factory=dict)
    volumes: dict[ServiceName, NamedVolume | None] = Field(default_factory=dict)  # Compose's
    networks: dict[str, Any] = Field(default_factory=dict)  # Compose's; one network per run
    steps: list[Step] = Field(default_factory=list)
    acceptance: Acceptance = Field(default_factory=Acceptance)

    # Not fields: the file this scenario was read from and the `--var` values it was read
    # with (validation sets them). A run needs its folder (data, builds) and records the values.
    _file: Path | None = PrivateAttr(default=None)
    _overrides: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def stakeholder_roles(self) -> list[str]:
        return [s.role for s in self.job.stakeholders] if self.job else []

    def read_from(self, path: Path, overrides: dict[str, str]) -> None:
        self._file, self._overrides = path, dict(overrides)

    @property
    def file(self) -> Path | None:
        """The scenario file this was read from (None: built by hand)."""
        return self._file

    @property
    def overrides(self) -> dict[str, str]:
        """The `--var` values it was read with."""
        return dict(self._overrides)


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
