"""Acceptance checks (spec, "Check types"): what each criterion measures, and how it compares.

A comparison is validated against its operator when the file is loaded (`between` takes two
numbers, `matches` a valid regex, `>=` a number), so a typo fails `poc validate`, not the demo.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from poc_runner import jsonpath, units
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
    as_number,
    error,
    show,
    valid_regex,
)

Operator = Literal["==", "!=", "<", "<=", ">", ">=", "between", "contains", "matches"]
NUMERIC_OPERATORS = frozenset({"==", "!=", "<", "<=", ">", ">=", "between"})
ORDERING_OPERATORS = frozenset({"<", "<=", ">", ">=", "between"})


def _json_path(path: str) -> str:
    try:
        jsonpath.parse(path)
    except ValueError as exc:
        raise error("jsonpath", f"{show(path)} is not a valid JSONPath: {exc}") from None
    return path


JsonPath = Annotated[str, AfterValidator(_json_path)]


class Comparison(Strict):
    """`op` and `value`, checked against each other."""

    operators: ClassVar[frozenset[str]] = frozenset(get_args(Operator))

    op: Operator
    value: Any

    @field_validator("op")
    @classmethod
    def _op_applies(cls, op: str) -> str:
        if op not in cls.operators:
            allowed = ", ".join(sorted(cls.operators))
            raise error("operator", f"{op!r} does not apply here; use one of {allowed}")
        return op

    @field_validator("value")
    @classmethod
    def _value_fits_op(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise error("value", "`between` takes a list of two bounds: [low, high]")
            low, high = (cls.quantity(bound) for bound in value)
            if low is not None and high is not None and low > high:
                raise error("value", f"the bounds are in the wrong order: {show(value)}")
        elif op in ORDERING_OPERATORS:
            cls.quantity(value)
        elif op == "matches":
            if not isinstance(value, str):
                raise error("value", "`matches` takes a regular expression as text")
            valid_regex(value)
        return value

    @classmethod
    def quantity(cls, value: Any) -> float | None:
        """The number a bound stands for; None for a secret not known until the run."""
        if _pending_secret(value):
            return None
        number = as_number(value)
        if number is None:
            raise error(
                "value", f"{show(value)} is not a number, and this operator compares numbers"
            )
        return number


class NumericComparison(Comparison):
    operators = NUMERIC_OPERATORS


class DurationComparison(NumericComparison):
    """Bounds in seconds or Compose-style durations (`2m`)."""

    @classmethod
    def quantity(cls, value: Any) -> float | None:
        if _pending_secret(value):
            return None
        try:
            return units.parse_duration(value)
        except ValueError as exc:
            raise error("duration", str(exc)) from None


def _pending_secret(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


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


SANDBOXED_CHECKS = frozenset({"sql", "http", "command"})  # judged inside the running sandbox


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
    | CommandCheck,
    Field(discriminator="type"),
]
CHECK_TYPES: tuple[str, ...] = tuple(
    get_args(model.model_fields["type"].annotation)[0] for model in get_args(get_args(Check)[0])
)
