"""The pytest plugin (entry point group `pytest11`, name `poc`): scenario files as test items.

    pytest --poc scenarios/                 # every scenario.yaml / .yml and *.poc.yaml there
    pytest --poc scenarios/ -k CFO          # only the criteria for the CFO

It does nothing unless asked (`--poc`, or ini `poc = true`), so installing poc-runner never
changes another project's test run, and loading it costs what this module imports: pytest and
the standard library; poc-runner itself loads when a scenario is collected.

Each scenario file is a `pytest.File` whose items are its criteria, one each, named by their
id, plus `[verdict]`; each item's location is its line in the YAML file (as Tavern keeps its
stages' lines), its keywords the criterion's stakeholder roles and `must`. The scenario runs
once, when its first item is set up (`ScenarioFile.outcome`), and every item reads that run:
a criterion not met fails its item, a failing verdict fails `[verdict]`, and a sandbox error is
an error of every item (raised in setup, where pytest counts errors, not failures). An invalid
file is one collection error with `poc validate`'s text. JUnit (`--junitxml`) gets each item's
`user_properties`: weight, must, stakeholders, measured, expected, the run folder.

The `poc_sandbox` fixture is a factory of live sandboxes (`poc_runner.sandbox`), removed when
its scope ends (`--poc-scope`, session by default), also after Ctrl-C: pytest tears fixtures
down on its way out. A run interrupted by Ctrl-C tears its own sandbox down and ends the
session as pytest ends on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

    from poc_runner._sandbox import LiveSandbox
    from poc_runner.model import Scenario
    from poc_runner.result import CriterionResult, RunResult
    from poc_runner.validation import Validation

SCENARIO_NAMES = frozenset({"scenario.yaml", "scenario.yml"})
SCENARIO_SUFFIX = ".poc.yaml"
VERDICT = "[verdict]"
Scope = Literal["function", "module", "session"]
SCOPES: tuple[Scope, ...] = ("function", "module", "session")

_RUNS = pytest.StashKey[Path]()  # the session's root of run folders, once made

SandboxFactory = Callable[..., "LiveSandbox"]  # poc_sandbox(path, *, variables=None)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("poc", "poc-runner: proof-of-concept scenarios as tests")
    group.addoption(
        "--poc",
        action="store_true",
        default=False,
        help="Collect scenario files (scenario.yaml, scenario.yml, *.poc.yaml) under the given"
        " paths: one test per acceptance criterion, plus [verdict]; each scenario runs once.",
    )
    group.addoption(
        "--poc-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        type=_var,
        help="Set or override a ${NAME} variable of the scenarios, as `poc run --var`"
        " (repeatable).",
    )
    group.addoption(
        "--poc-out",
        metavar="DIR",
        help="Root folder of the run folders (default: under pytest's temporary folder).",
    )
    group.addoption(
        "--poc-reuse",
        action="store_true",
        default=False,
        help="Judge on the sandboxes `poc up` left up (as `poc run --reuse`), and give them to"
        " poc_sandbox; they stay up.",
    )
    group.addoption(
        "--poc-scope",
        choices=SCOPES,
        default="session",
        help="When poc_sandbox's sandboxes are removed: at the end of each test function,"
        " module, or the session (default).",
    )
    parser.addini("poc", type="bool", default=False, help="Collect scenario files, as --poc.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "poc: an acceptance criterion (or the verdict) of a poc-runner scenario"
    )


def enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("poc", False) or config.getini("poc"))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    if not enabled(parent.config):
        return None
    if file_path.name in SCENARIO_NAMES or file_path.name.endswith(SCENARIO_SUFFIX):
        file: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
        return file
    return None


def _var(text: str) -> tuple[str, str]:
    """`--poc-var NAME=VALUE`, checked as `poc run --var` checks it."""
    from poc_runner.interpolation import NAME

    name, sep, value = text.partition("=")
    if not sep or not NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not NAME=VALUE (NAME: letters, digits and _)"
        )
    return name, value


def variables_of(config: pytest.Config) -> dict[str, str]:
    return dict(config.getoption("poc_var") or [])


class ScenarioFile(pytest.File):
    """One scenario file: its criteria and verdict as items, and the one run they all read."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario: Scenario | None = None
        self._result: RunResult | None = None
        self._refused: str | None = None  # why the scenario could not run at all

    def collect(self) -> Iterator[pytest.Item]:
        from poc_runner._api import validate

        validation = validate(self.path, variables_of(self.config))
        if not validation.ok or validation.scenario is None:
            raise self.CollectError(self._as_validate_says(validation))
        self.scenario = validation.scenario
        marks = validation.findings.source_map
        for index, criterion in enumerate(self.scenario.acceptance.criteria):
            line = marks.key_at(("acceptance", "criteria", index, "id")).line
            yield CriterionItem.from_parent(self, name=criterion.id, line=line)
        yield VerdictItem.from_parent(self, name=VERDICT, line=marks.key_at(("acceptance",)).line)

    def _as_validate_says(self, validation: Validation) -> str:
        """`poc validate`'s text, its files named as the user typed the path."""
        from poc_runner.diagnostics import render, tally

        found = [replace(d, file=self._shown(d.file)) for d in validation.diagnostics]
        return "\n".join(
            [render(found, "text"), tally(1, 0, found)] if found else [tally(1, 0, found)]
        )

    def _shown(self, file: str) -> str:
        """A path relative to where pytest was started, when it is below it."""
        base = self.config.invocation_params.dir
        path = Path(file)
        return (
            str(path.relative_to(base))
            if path.is_absolute() and path.is_relative_to(base)
            else file
        )

    def outcome(self) -> RunResult:
        """This file's run: made on the first call, read on the others. A scenario that could
        not run at all (an --poc-out it cannot write, no engine) fails every item alike."""
        if self._result is None and self._refused is None:
            self._result, self._refused = self._run()
        if self._refused is not None:
            pytest.fail(self._refused, pytrace=False)
        assert self._result is not None
        return self._result

    def _run(self) -> tuple[RunResult | None, str | None]:
        from poc_runner._api import run
        from poc_runner.errors import Interrupted, PocError

        assert self.scenario is not None
        try:
            result = run(
                self.scenario,
                out=runs_root(self.config),
                reuse=bool(self.config.getoption("poc_reuse")),
            )
        except Interrupted:
            raise KeyboardInterrupt from None  # pytest ends the session, tearing fixtures down
        except PocError as exc:
            return None, f"{self._shown(str(self.path))}: {exc}"
        return result, None


def runs_root(config: pytest.Config) -> Path:
    """--poc-out, or one folder of the session's under pytest's temporary folder."""
    if _RUNS not in config.stash:
        given = config.getoption("poc_out")
        if given:  # from where pytest was started, whatever a test does to the cwd
            config.stash[_RUNS] = config.invocation_params.dir / given
        else:
            factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
            config.stash[_RUNS] = factory.mktemp("poc-runs", numbered=False)
    return config.stash[_RUNS]


class _ScenarioItem(pytest.Item):
    """An item of a scenario file, at its line of the YAML file."""

    parent: ScenarioFile

    def __init__(self, *, line: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.line = line  # 1-based
        self.add_marker("poc")
        self.result: RunResult | None = None

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.line - 1, self.name

    def where(self) -> str:
        return f"{self.parent._shown(str(self.path))}:{self.line}"

    def setup(self) -> None:
        """The file's run (made now if this is its first item); a sandbox error is an error of
        this item, not a failure: the product was not judged."""
        from poc_runner.masking import SECRETS
        from poc_runner.result import Verdict
        from poc_runner.summary import summarize

        result = self.parent.outcome()
        self.result = result
        self.record(result)
        if result.verdict is Verdict.ERROR:
            said = SECRETS.mask(summarize(result, str(result.folder)))
            pytest.fail(
                f"{self.where()}: the sandbox failed, nothing was judged\n{said}", pytrace=False
            )

    def record(self, result: RunResult) -> None:
        """What JUnit's <properties> of this item hold."""

    def note(self, name: str, value: object) -> None:
        from poc_runner.masking import SECRETS

        text = (
            value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        )
        self.user_properties.append((name, SECRETS.mask(text)))


class CriterionItem(_ScenarioItem):
    """One acceptance criterion: passes when it is met."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        assert self.parent.scenario is not None
        criterion = next(c for c in self.parent.scenario.acceptance.criteria if c.id == self.name)
        self.extra_keyword_matches.update(criterion.for_)
        if criterion.must:
            self.extra_keyword_matches.add("must")
        self.note("weight", criterion.weight)
        self.note("must", criterion.must)
        self.note("stakeholders", ", ".join(criterion.for_))

    def record(self, result: RunResult) -> None:
        criterion = result.criterion(self.name)
        self.note("measured", criterion.measured)
        self.note("expected", criterion.expected)
        self.note("run_folder", str(result.folder))

    def runtest(self) -> None:
        assert self.result is not None
        criterion = self.result.criterion(self.name)
        if not criterion.passed:
            raise NotMet(criterion, self.result)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, NotMet):
            return failure_text(self.where(), excinfo.value.criterion, excinfo.value.result)
        return super().repr_failure(excinfo, style)


class VerdictItem(_ScenarioItem):
    """The scenario's verdict: fails when it is fail (a score below pass_score, or a
    must-have not met)."""

    def record(self, result: RunResult) -> None:
        self.note("verdict", str(result.verdict))
        self.note("score", result.score)
        self.note("pass_score", result.pass_score)
        self.note("run_folder", str(result.folder))

    def runtest(self) -> None:
        from poc_runner.result import Verdict

        assert self.result is not None
        if self.result.verdict is Verdict.FAIL:
            raise NotMet(None, self.result)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, NotMet):
            from poc_runner.masking import SECRETS
            from poc_runner.summary import summarize

            result = excinfo.value.result
            said = summarize(result, str(result.folder))
            return SECRETS.mask(f"{self.where()}: verdict FAIL\n{said}")
        return super().repr_failure(excinfo, style)


class NotMet(Exception):
    """A criterion not met (`criterion`), or a failing verdict (`criterion` None)."""

    def __init__(self, criterion: CriterionResult | None, result: RunResult) -> None:
        super().__init__(criterion.id if criterion else VERDICT)
        self.criterion = criterion
        self.result = result


def failure_text(where: str, criterion: CriterionResult | None, result: RunResult) -> str:
    """A criterion not met, as a sales engineer reads it: where it is written, its title, what
    was measured against what was expected (with the unit), today's figure, the evidence, and
    where the run's files are."""
    from poc_runner.masking import SECRETS
    from poc_runner.report.common import State, state
    from poc_runner.report.figures import (
        baseline_text,
        expected_text,
        measured_text,
        near_text,
    )

    assert criterion is not None
    close = state(result, criterion) is State.CLOSE
    how = f"close (within {near_text(criterion)}) but not met" if close else "not met"
    must = ", a must-have" if criterion.must else ""
    lines = [f"{where}: {criterion.id} {how}{must}"]
    if criterion.title:
        lines.append(f"  {criterion.title}")
    if criterion.stakeholders:
        lines.append(f"  for: {', '.join(criterion.stakeholders)}")
    lines += [
        f"  measured: {measured_text(criterion)}",
        f"  expected: {expected_text(criterion)}",
    ]
    today = baseline_text(criterion)
    if today is not None:
        lines.append(f"  today: {today}")
    evidence = (criterion.evidence or "(none)").splitlines() or ["(none)"]
    lines += ["  evidence:", *(f"    {line}" for line in evidence)]
    lines.append(f"  results: {result.folder}")
    return SECRETS.mask("\n".join(lines))


def _sandbox_scope(fixture_name: str, config: pytest.Config) -> Scope:
    """--poc-scope, read when the fixture is first used."""
    chosen = config.getoption("poc_scope", "session")
    return next((scope for scope in SCOPES if scope == chosen), "session")


@pytest.fixture(scope=_sandbox_scope)
def poc_sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxFactory]:
    """A factory: `poc_sandbox("scenarios/acme")` is that scenario's services up (as
    `poc_runner.sandbox`; a relative path is from the rootdir), the same sandbox for the same
    path within the scope, removed when the scope ends (`--poc-scope`). With `--poc-reuse`,
    the sandbox `poc up` left up, which stays up. `--poc-var`s apply; `variables=` add to them."""
    config = request.config
    opened: dict[tuple[Path, tuple[tuple[str, str], ...]], LiveSandbox] = {}

    def open_sandbox(
        path: str | os.PathLike[str], *, variables: Mapping[str, str] | None = None
    ) -> LiveSandbox:
        from poc_runner._sandbox import sandbox

        found = Path(path)
        if not found.is_absolute() and (config.rootpath / found).exists():
            found = config.rootpath / found
        values = {**variables_of(config), **(variables or {})}
        key = (found.resolve(), tuple(sorted(values.items())))
        if key not in opened:
            reuse = bool(config.getoption("poc_reuse"))
            opened[key] = sandbox(found, variables=values, reuse=reuse)
        return opened[key]

    try:
        yield open_sandbox
    finally:
        problems = []
        for live in reversed(opened.values()):
            try:
                live.__exit__(None, None, None)  # removes those it brought up
            except Exception as exc:
                problems.append(str(exc))
        if problems:
            pytest.fail("; ".join(problems), pytrace=False)
