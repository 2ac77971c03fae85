"""`result.json`: what a run did and found, in a stable, versioned shape (spec, "Run results").

Everything a report needs is here, so any report can be re-rendered from this file alone.
`RunResult` is also what the public API returns (docs/python-api.md): the fields are the file,
and a few properties read it for a caller (`passed`, `criterion(id)`, `exit_code`, `folder`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field
from pydantic.json_schema import WithJsonSchema

from poc_runner.atomic import write_atomic
from poc_runner.errors import ExitCode
from poc_runner.masking import SECRETS

SCHEMA_VERSION: Literal["1.0"] = "1.0"


class Verdict(StrEnum):
    """A run's outcome (spec, "acceptance"): pass and fail judge the product, error the sandbox."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"

    @property
    def word(self) -> str:
        """As every report and the terminal write it: PASS, FAIL, ERROR."""
        return self.value.upper()

    @classmethod
    def worst(cls, verdicts: Iterable[Verdict]) -> Verdict:
        """Of several runs: an error, then a fail, then a pass (none: pass)."""
        seen = set(verdicts)
        return next((v for v in (cls.ERROR, cls.FAIL) if v in seen), cls.PASS)

    @property
    def exit_code(self) -> ExitCode:
        """What a command ending on this verdict exits with."""
        codes = {Verdict.PASS: ExitCode.PASSED, Verdict.FAIL: ExitCode.FAILED}
        return codes.get(self, ExitCode.SANDBOX_ERROR)


# In the published schema every key is required: result.json always writes them all.
_ALL_KEYS_WRITTEN = ConfigDict(json_schema_serialization_defaults_required=True)


@dataclass
class Stakeholder:
    __pydantic_config__ = _ALL_KEYS_WRITTEN

    role: str
    wants: str


@dataclass
class Job:
    """The prospect's job in their words, copied from the scenario so that a report can be
    rendered from result.json alone."""

    __pydantic_config__ = _ALL_KEYS_WRITTEN

    statement: str | None = None
    current_solution: str | None = None
    stakeholders: list[Stakeholder] = field(default_factory=list)
    prospect: str | None = None
    industry: str | None = None


class Status(StrEnum):
    """A criterion's outcome (spec, "Run results": `status`): met; close (not met, but within
    its `near` bound: amber, no points); not met; or not judged (the sandbox failed, so the
    criterion says nothing about the product)."""

    MET = "met"
    CLOSE = "close"
    NOT_MET = "not_met"
    NOT_JUDGED = "not_judged"


SAMPLE_ROWS = 10  # rows a data or schema check keeps of those that fail it


@dataclass
class RowSample:
    """The first rows that fail a data or schema check, so a reader sees which ones (secrets
    are masked when result.json is written, as every value is)."""

    __pydantic_config__ = _ALL_KEYS_WRITTEN

    columns: list[str]
    rows: list[list[Any]]  # cells as read: text, a number, or None for NULL
    total: int  # how many rows fail, of which these are the first (at most SAMPLE_ROWS)
    numbers: list[int] | None = None  # in a CSV file, each row's number (1: after the header)


@dataclass
class CriterionResult:
    __pydantic_config__ = _ALL_KEYS_WRITTEN

    id: str
    title: str | None
    passed: bool
    must: bool
    weight: float
    measured: Any
    expected: Any
    evidence: str
    stakeholders: list[str]
    check: str
    baseline: Any = None
    improvement: float | None = None  # over the baseline; only on a criterion that was met
    unit: str | None = None  # how measured, expected and baseline read (scenario's `unit`)
    headline: bool = False  # one of the executive summary's figures
    max_factor: float = 100.0  # larger improvement factors read "over 100x"
    status: Annotated[
        Status | None,
        WithJsonSchema({"enum": [status.value for status in Status], "type": "string"}),
    ] = None  # None only while being made: filled from `passed` (results before 1.0 had none)
    near: str | None = None  # where not met counts as close, as `expected` says it: ">= 99"
    remainder: str | None = None  # a rate's rest, named for the reports: "unmatched"
    failing_rows: RowSample | None = None  # a data or schema check's rows that fail it

    def __post_init__(self) -> None:
        if self.status is None:
            self.status = Status.MET if self.passed else Status.NOT_MET

    @property
    def judged(self) -> bool:
        """False when the sandbox failed, so this criterion says nothing about the product."""
        return self.status is not Status.NOT_JUDGED


class StepOutcome(StrEnum):
    """How a step ended, said the same way on screen, in the timeline and in every report."""

    PASSED = "passed"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    NOT_RUN = "did not run"

    @classmethod
    def of(cls, ran: bool, timed_out: bool, exit_code: int | None) -> StepOutcome:
        if not ran:
            return cls.NOT_RUN
        if timed_out:
            return cls.TIMED_OUT
        return cls.PASSED if exit_code == 0 else cls.FAILED

    def words(self, exit_code: int | None) -> str:
        """`failed (exit 1)`; the others as they are."""
        return f"failed (exit {exit_code})" if self is StepOutcome.FAILED else self.value


# What result.json says of a step (no docstring: it would become the schema's description). A
# step that has not run yet is `StepRecord(name, service)`; its defaults are factories, so the
# published schema, in which every key is written, lists none as optional. While a run goes on,
# steps.StepResult adds the evidence the checks read (its output), which result.json leaves out.
@dataclass
class StepRecord:
    __pydantic_config__ = _ALL_KEYS_WRITTEN

    name: str
    service: str
    exit_code: int | None = field(default_factory=lambda: None)
    duration_s: float = field(default_factory=float)
    timed_out: bool = field(default_factory=bool)
    ran: bool = field(default_factory=bool)
    error: str | None = field(default_factory=lambda: None)
    output_bytes: dict[str, int] = field(default_factory=dict)
    artifacts: dict[str, bool] = field(default_factory=dict)  # container path -> copied
    artifact_errors: dict[str, str] = field(default_factory=dict)  # why one was not copied
    last_lines: list[str] = field(default_factory=list)  # what a failed step said last

    @property
    def outcome(self) -> StepOutcome:
        return StepOutcome.of(self.ran, self.timed_out, self.exit_code)

    @property
    def passed(self) -> bool:
        return self.outcome is StepOutcome.PASSED

    def record(self) -> StepRecord:
        """This step as result.json has it (a StepResult's evidence left out)."""
        return StepRecord(**{f.name: getattr(self, f.name) for f in fields(StepRecord)})


class IncidentKind(StrEnum):
    EXITED = "exited"  # the product stopped: what needs it fails
    OUT_OF_MEMORY = "out_of_memory"  # the sandbox's memory limit killed it: verdict error
    DISK_LIMIT = "disk_limit"  # it wrote more than resources.disk: stopped, verdict error
    REMOVED = "removed"  # its container was removed under the run (`poc down`): verdict error


_INCIDENT_WORDS = {
    IncidentKind.EXITED: "stopped",
    IncidentKind.OUT_OF_MEMORY: "killed: out of memory",
    IncidentKind.DISK_LIMIT: "stopped: over its disk limit",
    IncidentKind.REMOVED: "removed under the run",
}


@dataclass
class Incident:
    """Something that happened to a service after it was up (the sandbox's service watch)."""

    __pydantic_config__ = _ALL_KEYS_WRITTEN

    service: str
    kind: IncidentKind
    at_s: float  # seconds from the start of the run
    exit_code: int | None
    message: str
    logs: list[str]  # its last log lines

    @property
    def status(self) -> str:
        """In a few words, as the progress display, the summary and the timeline say it."""
        code = f" (exit code {self.exit_code})" if self.kind is IncidentKind.EXITED else ""
        return f"{_INCIDENT_WORDS[self.kind]}{code} at {self.at_s:.1f} s"


@dataclass
class TimelineEntry:
    """When something happened, in seconds from the start of the run (for the report's chart)."""

    __pydantic_config__ = _ALL_KEYS_WRITTEN

    kind: Literal["phase", "service", "step"]
    name: str
    start_s: float
    end_s: float
    status: str


@dataclass
class RunInputs:
    """What the run was given (spec, "Run results"), so two runs can be told apart: every
    variable's value as used (secrets as ***) and the sha256 of the files that decide it."""

    __pydantic_config__ = _ALL_KEYS_WRITTEN

    vars: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # path in the scenario folder -> sha256


@dataclass
class RunResult:
    __pydantic_config__ = _ALL_KEYS_WRITTEN

    scenario: str
    run_id: str
    started_at: str
    finished_at: str = ""
    verdict: Verdict = Verdict.ERROR
    score: Annotated[float, Field(ge=0, le=100)] = 0.0
    pass_score: Annotated[float, Field(ge=0, le=100)] = 100.0
    error: str | None = None
    title: str | None = None
    job: Job = field(default_factory=Job)
    criteria: list[CriterionResult] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    reused: str | None = None  # the run id of the sandbox left up that this run ran on
    environment: dict[str, Any] = field(default_factory=dict)
    inputs: RunInputs = field(default_factory=RunInputs)
    schema_version: Literal["1.0"] = SCHEMA_VERSION

    def to_json(self) -> str:
        body = asdict(self)
        ordered = {"schema_version": body.pop("schema_version"), **body}
        return json.dumps(_safe(ordered), indent=2, ensure_ascii=False) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """Exactly what result.json holds (secrets masked, as written)."""
        document: dict[str, Any] = json.loads(self.to_json())
        return document

    def write(self, folder: Path) -> Path:
        self.at(folder)
        return write_atomic(folder / "result.json", self.to_json())

    # What a caller reads off a run (docs/python-api.md). Not fields: result.json stays as it is.

    def at(
        self,
        folder: Path,
        endpoints: dict[str, list[str]] | None = None,
        scenario_file: Path | None = None,
    ) -> RunResult:
        """This result, knowing its run folder, and when it was run here, its scenario file
        and (a sandbox left up) where its services answer; returns itself."""
        self._folder = folder
        if endpoints is not None:
            self._endpoints = dict(endpoints)
        if scenario_file is not None:
            self._scenario_file = scenario_file
        return self

    @property
    def folder(self) -> Path:
        """The run folder: result.json, the reports, steps/, logs/, artifacts/."""
        folder: Path | None = getattr(self, "_folder", None)
        if folder is None:
            raise AttributeError("this result was neither written to nor read from a run folder")
        return folder

    @property
    def endpoints(self) -> dict[str, list[str]]:
        """A run that left its sandbox up (`keep`, `reuse`): each service's published ports,
        `127.0.0.1:49153 -> 8080/tcp`; empty otherwise, and for a result read from a file."""
        return dict(getattr(self, "_endpoints", {}))

    @property
    def scenario_file(self) -> Path | None:
        """The scenario file this run ran; None for a result read back from result.json."""
        file: Path | None = getattr(self, "_scenario_file", None)
        return file

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS

    def __bool__(self) -> bool:
        return self.passed

    @property
    def exit_code(self) -> int:
        """What `poc run` exits with for this run alone: 0 pass, 1 fail, 3 sandbox error."""
        return int(self.verdict.exit_code)

    def criterion(self, id: str) -> CriterionResult:
        """The criterion of this id; KeyError naming the ids there are."""
        for criterion in self.criteria:
            if criterion.id == id:
                return criterion
        ids = ", ".join(c.id for c in self.criteria) or "none"
        raise KeyError(f"{self.scenario} has no criterion {id!r}; its criteria: {ids}")

    def raise_for_verdict(self) -> None:
        """Nothing on a pass; VerdictFailed on a fail, SandboxError on an error."""
        from poc_runner.errors import SandboxError, VerdictFailed

        where = f"; results: {self.folder}" if hasattr(self, "_folder") else ""
        if self.verdict is Verdict.FAIL:
            missed = [f"{c.id} (must)" if c.must else c.id for c in self.criteria if not c.passed]
            raise VerdictFailed(
                f"{self.scenario}: verdict FAIL, score {self.score:g} (needs {self.pass_score:g});"
                f" not met: {', '.join(missed) or 'none'}{where}",
                self,
            )
        if self.verdict is Verdict.ERROR:
            raise SandboxError(f"{self.scenario}: the sandbox failed: {self.error}{where}")


def _safe(value: Any) -> Any:
    """Every text masked before JSON escapes it (an escaped quote or backslash would hide a
    secret from the mask), and lone surrogates from a product's output replaced, since UTF-8
    cannot hold them."""
    if isinstance(value, str):
        return SECRETS.mask(value).encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_safe(key): _safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_safe(item) for item in value]
    return value


_MAX_PROBLEMS = 3  # a wrong file usually breaks many fields; the first few say what it is


def load_result(path: Path) -> RunResult:
    """Rebuild a RunResult from result.json, so any report can be re-rendered from it alone.

    `path` is a run folder or the file itself. A missing, unreadable or malformed file raises
    InvalidInput with one paragraph naming the file and what is wrong with it.
    """
    from pydantic import TypeAdapter, ValidationError

    from poc_runner.errors import InvalidInput

    file = path / "result.json" if path.is_dir() else path
    hint = "A run folder is <out>/<scenario>/<UTC time>-<id>/, as written by `poc run`."
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{file} does not exist, so there is no run to report. {hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{file} cannot be read ({exc}). {hint}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{file} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg});"
            f" it may have been cut short or edited by hand. {hint}"
        ) from None
    try:
        return TypeAdapter(RunResult).validate_python(data).at(file.parent)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or '(top level)'}: {error['msg']}"
            for error in exc.errors()[:_MAX_PROBLEMS]
        )
        more = exc.error_count() - _MAX_PROBLEMS
        raise InvalidInput(
            f"{file} is not a poc-runner result (schema_version {SCHEMA_VERSION}): {problems}"
            + (f" (and {more} more)" if more > 0 else "")
            + f". {hint}"
        ) from None
