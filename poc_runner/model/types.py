"""Field types shared by the scenario models, each with an error a sales engineer can act on.

Unions are routed by the shape of the input (text, list or mapping) rather than tried member by
member, so a wrong value gets one precise error instead of one per alternative.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Tag,
)
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticCustomError, core_schema

from poc_runner import units


class Strict(BaseModel):
    """Base of every scenario model: unknown keys are errors, numbers may stand for text."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)


def error(kind: str, message: str) -> PydanticCustomError:
    """A validation error with its own kind (used as the diagnostic's rule) and message."""
    return PydanticCustomError(kind, message)  # no context given, so braces stay literal


def show(value: object, limit: int = 40) -> str:
    """A value quoted for a message, cut short so a hostile value cannot flood the output."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Pattern:
    """`Annotated[str, Pattern(...)]`: text that must match, explained in words when it does not."""

    regex: str
    what: str
    rule: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        compiled = re.compile(self.regex)

        def check(value: str) -> str:
            if not compiled.fullmatch(value):
                raise error("format", f"{show(value)} is not a valid {self.what}: {self.rule}")
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: Any, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return {**handler(schema), "pattern": f"^{self.regex}$"}


ScenarioName = Annotated[
    str,
    Pattern(
        r"[a-z0-9][a-z0-9-]{0,62}",
        "scenario name",
        "use lowercase letters, digits and dashes, start with a letter or digit,"
        " 63 characters at most",
    ),
]
Identifier = Annotated[
    str,
    Pattern(
        r"[a-z0-9][a-z0-9_-]*",
        "name",
        "use lowercase letters, digits, _ and -, starting with a letter or digit",
    ),
]
ServiceName = Annotated[
    str,
    Pattern(
        r"[a-zA-Z0-9][a-zA-Z0-9_.-]*",
        "service name",
        "use letters, digits, '.', '_' and '-', starting with a letter or digit (as in Compose)",
    ),
]
_ADDRESS_PART = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")


def reads_as_address(name: str) -> bool:
    """Whether a name would be taken as an IP address rather than looked up: up to four
    numbers joined by dots, each decimal, octal (`0177`) or hex (`0x7f`), as `inet_aton`
    (and so `gethostbyname`) reads them: `192.0.2.2`, `3221226018`, `0x7f.1`, `127.1`. A
    trailing dot is refused too. An IPv6 address has colons, which no name here may have."""
    parts = name.removesuffix(".").split(".")
    return len(parts) <= 4 and all(_ADDRESS_PART.fullmatch(part) for part in parts)


def _not_an_address(value: str) -> str:
    if reads_as_address(value):
        raise error(
            "security",
            f"{show(value)} reads as an IP address (numbers and dots, in decimal, octal or hex,"
            " as `inet_aton` reads them), so a lookup of it would lead to that address rather"
            " than to a service: a name on the run's network needs a letter in it",
        )
    return value


# A name a service answers to on the run's network: its own, its hostname, container name,
# aliases and link names. Never one that reads as an address (see `reads_as_address`).
NetworkName = Annotated[ServiceName, AfterValidator(_not_an_address)]
VarName = Annotated[
    str,
    Pattern(
        r"[A-Za-z_][A-Za-z0-9_]*",
        "variable name",
        "use letters, digits and _, not starting with a digit",
    ),
]
EnvName = Annotated[
    str, Pattern(r"[^=\s\x00]+", "environment variable name", "no spaces and no '=' in the name")
]
Sha256 = Annotated[str, Pattern(r"[0-9a-f]{64}", "sha256", "64 lowercase hexadecimal characters")]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise error("blank", "must not be empty")
    return value


Text = Annotated[str, AfterValidator(_not_blank)]


def _scalar_to_text(value: Any) -> Any:
    """Environment and `vars` values may be numbers or booleans; containers only see text."""
    if value is None:
        raise error(
            "missing-value",
            "has no value; poc-runner never copies the host's environment into the sandbox"
            " (list the name under `secrets` to pass a secret)",
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


ScalarText = Annotated[str, BeforeValidator(_scalar_to_text)]


def valid_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise error("regex", f"{show(value)} is not a valid regular expression: {exc}") from None
    return value


Regex = Annotated[str, AfterValidator(valid_regex)]
Stream = Literal["stdout", "stderr"]

_FORBIDDEN_MOUNT_ROOTS = ("/proc", "/sys", "/dev")


def _container_path(value: str) -> str:
    if not value.startswith("/"):
        raise error(
            "container-path", f"{show(value)} must be an absolute path inside the container"
        )
    if "\x00" in value or ".." in value.split("/"):
        raise error("container-path", f"{show(value)} must not contain '..' or NUL characters")
    return value


def _mount_path(value: str) -> str:
    normal = posixpath.normpath(value)
    if normal == "/" or any(
        normal == r or normal.startswith(r + "/") for r in _FORBIDDEN_MOUNT_ROOTS
    ):
        raise error(
            "container-path",
            f"data cannot be placed at {show(value)}; choose a folder such as /data",
        )
    return value


ContainerPath = Annotated[str, AfterValidator(_container_path)]
MountPath = Annotated[str, AfterValidator(_container_path), AfterValidator(_mount_path)]


def _scenario_path(value: str) -> str:
    """Lexical part of the folder rule; the files rule checks symlinks and existence."""
    if not value or "\x00" in value:
        raise error("path", "must be a path inside the scenario folder")
    if value.startswith(("/", "\\")) or re.match(r"[A-Za-z]:[\\/]", value):
        raise error(
            "path-escape",
            f"{show(value)} is absolute; paths are relative to the scenario file's folder",
        )
    if posixpath.normpath(value).split("/")[0] == "..":
        raise error("path-escape", f"{show(value)} climbs out of the scenario folder")
    return value


ScenarioPath = Annotated[str, AfterValidator(_scenario_path)]


def _duration(value: Any) -> float:
    try:
        return units.parse_duration(value)
    except ValueError as exc:
        raise error("duration", str(exc)) from None


def _memory(value: Any) -> int:
    try:
        size = units.parse_memory(value)
    except ValueError as exc:
        raise error("memory", str(exc)) from None
    if size < 6 * 1024 * 1024:
        raise error("memory", f"{show(value)} is too little memory; Docker needs at least 6m")
    return size


def _disk(value: Any) -> int:
    try:
        size = units.parse_memory(value)
    except ValueError as exc:
        raise error("disk", str(exc).replace("memory size", "size")) from None
    if size < 1024 * 1024:
        raise error("disk", f"{show(value)} is too little; a disk limit is at least 1m")
    return size


def _number_or_text(number: str, pattern: str, description: str) -> WithJsonSchema:
    """How editors see a unit field: a bare number, or text with its unit."""
    return WithJsonSchema(
        {
            "anyOf": [{"type": number, "minimum": 0}, {"type": "string", "pattern": pattern}],
            "description": description,
        }
    )


Duration = Annotated[
    float,
    BeforeValidator(_duration),
    _number_or_text(
        "number", units.DURATION_PATTERN, "seconds, or a duration like 30s, 2m, 1h30m, 500ms"
    ),
]
Memory = Annotated[
    int,
    BeforeValidator(_memory),
    _number_or_text("integer", units.MEMORY_PATTERN, "bytes, or a size like 512m, 2g"),
]

Disk = Annotated[
    int,
    BeforeValidator(_disk),
    _number_or_text("integer", units.MEMORY_PATTERN, "bytes, or a size like 500m, 10g"),
]


def shape_of(value: Any) -> str | None:
    """The tag that routes a shape-routed union: text, list or mapping."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return "<text>"
    if isinstance(value, list):
        return "<list>"
    if isinstance(value, dict):
        return "<mapping>"
    return None


def _non_empty(items: list[str]) -> list[str]:
    if not items:
        raise error("empty", "the list must not be empty")
    return items


Command = Annotated[
    Annotated[str, Tag("<text>")] | Annotated[list[str], AfterValidator(_non_empty), Tag("<list>")],
    Discriminator(
        shape_of,
        custom_error_type="shape",
        custom_error_message="expected a command: text (run by sh -c) or a list of arguments",
    ),
]
TextOrList = Annotated[
    Annotated[str, Tag("<text>")] | Annotated[list[str], Tag("<list>")],
    Discriminator(
        shape_of, custom_error_type="shape", custom_error_message="expected text or a list of text"
    ),
]


def _env_item(item: str) -> str:
    name, sep, _ = item.partition("=")
    if sep and name and name != name.strip():
        raise error(
            "env-item",
            f"environment variable {name.strip()!r} is written with a space before `=`"
            f" ({show(item)}); write {name.strip()}={item.partition('=')[2].strip()}",
        )
    if not sep or not name:
        raise error(
            "env-item",
            f"{show(item)} must be written KEY=VALUE; poc-runner never copies the host's"
            " environment into the sandbox (list the name under `secrets` to pass a secret)",
        )
    return item


EnvMap = Annotated[
    Annotated[dict[EnvName, ScalarText], Tag("<mapping>")]
    | Annotated[list[Annotated[str, AfterValidator(_env_item)]], Tag("<list>")],
    Discriminator(
        shape_of,
        custom_error_type="shape",
        custom_error_message="expected a mapping of NAME: value, or a list of NAME=value",
    ),
]


def env_as_dict(env: dict[str, str] | list[str]) -> dict[str, str]:
    """Either Compose spelling of an environment, as one mapping."""
    if isinstance(env, dict):
        return dict(env)
    return dict(item.split("=", 1) for item in env)


def as_list(value: Any) -> Any:
    """Let a single item stand for a list of one (`for: CFO`)."""
    return [value] if isinstance(value, str) else value


NUMBER_TEXT = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*")


def as_number(value: Any) -> float | None:
    """The number a value stands for (`3`, `0.95`, `"0.95"`), or None; booleans are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and NUMBER_TEXT.fullmatch(value):
        return float(value)
    return None
