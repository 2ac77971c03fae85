"""Acceptance checks (spec, "Check types"): what each criterion measures, and how it compares.

A comparison is validated against its operator when the file is loaded (`between` takes two
numbers, `matches` a valid regex, `>=` a number), so a typo fails `poc validate`, not the demo.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from poc_runner import jsonpath
from poc_runner.model.comparison import (
    Comparison,
    DurationComparison,
    NumericComparison,
)
from poc_runner.model.data import DataCheck, SchemaCheck
from poc_runner.model.types import (
    Command,
    ContainerPath,
    Identifier,
    Regex,
    ScenarioPath,
    ServiceName,
    Sha256,
    Stream,
    Strict,
    Text,
    TextOrList,
    error,
    show,
)


def _json_path(path: str) -> str:
    try:
        jsonpath.parse(path)
    except ValueError as exc:
        raise error("jsonpath", f"{show(path)} is not a valid JSONPath: {exc}") from None
    return path


JsonPath = Annotated[str, AfterValidator(_json_path)]


class ExitCodeCheck(Strict):
    type: Literal["exit_code"]
    step: Identifier
    value: int = 0


class OutputCheck(Strict):
    type: Literal["output"]
    step: Identifier
    stream: Stream = "stdout"
    contains: str | None = None
    not_contains: str | None = None
    matches: Regex | None = None

    @model_validator(mode="after")
    def _something_to_check(self) -> OutputCheck:
        if self.contains is None and self.not_contains is None and self.matches is None:
            raise error("check", "an output check needs `contains`, `not_contains` or `matches`")
        return self


class JsonCheck(Comparison):
    type: Literal["json"]
    artifact: ContainerPath | None = None
    step: Identifier | None = None
    path: JsonPath

    @model_validator(mode="after")
    def _one_source(self) -> JsonCheck:
        if (self.artifact is None) == (self.step is None):
            raise error(
                "check",
                "a json check reads either an `artifact` or a `step`'s output; give exactly one",
            )
        return self


class FileCheck(Strict):
    type: Literal["file"]
    artifact: ContainerPath
    exists: bool = True
    sha256: Sha256 | None = None
    size: NumericComparison | None = None

    @model_validator(mode="after")
    def _nothing_to_measure_when_absent(self) -> FileCheck:
        if not self.exists and (self.sha256 is not None or self.size is not None):
            raise error(
                "check", "with `exists: false` there is no file to check `sha256` or `size` of"
            )
        return self


class DurationCheck(DurationComparison):
    type: Literal["duration"]
    step: Identifier


class MetricCheck(NumericComparison):
    type: Literal["metric"]
    step: Identifier
    stream: Stream = "stdout"
    pattern: Regex | None = None
    json_line: Text | None = None

    @field_validator("pattern")
    @classmethod
    def _one_group(cls, pattern: str | None) -> str | None:
        if pattern is not None and re.compile(pattern).groups != 1:
            raise error("regex", "a metric pattern needs exactly one (group) around the number")
        return pattern

    @model_validator(mode="after")
    def _one_source(self) -> MetricCheck:
        if (self.pattern is None) == (self.json_line is None):
            raise error(
                "check",
                "a metric check extracts the number with either `pattern` or `json_line`;"
                " give exactly one",
            )
        return self


class CsvCheck(Strict):
    type: Literal["csv"]
    artifact: ContainerPath
    expected: ScenarioPath
    key: TextOrList | None = None
    columns: list[str] | None = None
    tolerance: Annotated[float, Field(ge=0)] = 0.0


SANDBOXED_CHECKS = frozenset({"sql", "http", "command", "isolation"})  # judged while up


class SqlCheck(Comparison):
    type: Literal["sql"]
    service: ServiceName
    query: Text


class BodyExpectation(Strict):
    contains: str


class JsonProbe(Comparison):
    path: JsonPath


class HttpCheck(Strict):
    type: Literal["http"]
    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    status: Annotated[int, Field(ge=100, le=599)] | None = None
    body: BodyExpectation | None = None
    json_: JsonProbe | None = Field(default=None, alias="json")
    latency_ms: NumericComparison | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise error("url", f"{show(url)} is not an http(s) URL such as http://app:8080/health")
        return url

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


class CommandCheck(Strict):
    type: Literal["command"]
    service: ServiceName
    run: Command


class IsolationCheck(Strict):
    """No data can leave: judged from inside each service (default: every one)."""

    type: Literal["isolation"]
    services: list[ServiceName] | None = None


Check = Annotated[
    ExitCodeCheck
    | OutputCheck
    | JsonCheck
    | FileCheck
    | DurationCheck
    | MetricCheck
    | CsvCheck
    | SqlCheck
    | HttpCheck
    | CommandCheck
    | IsolationCheck
    | DataCheck
    | SchemaCheck,
    Field(discriminator="type"),
]


def needs_sandbox(check: Any) -> bool:
    """Whether the check is judged while the sandbox is up: it runs in a service, sends from
    the sandbox's network, or reads a service's table."""
    return check.type in SANDBOXED_CHECKS or getattr(check, "table", None) is not None


# What a criterion's `near` can compare: the checks whose evidence is a figure.
FIGURED_CHECKS = frozenset({"json", "duration", "metric", "csv", "sql", "http", "data"})
CHECK_TYPES: tuple[str, ...] = tuple(
    get_args(model.model_fields["type"].annotation)[0] for model in get_args(get_args(Check)[0])
)
