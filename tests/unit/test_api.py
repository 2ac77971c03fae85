"""The public Python API's contract (docs/python-api.md), without an engine: the package's
names, what `import poc_runner` costs, validation and loading, what a run refuses before it
starts, the RunResult a caller reads, the error classes, and progress events."""

from __future__ import annotations

import json
import pickle
import re
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path

import pytest

import poc_runner
from poc_runner import _runs
from poc_runner._api import public
from poc_runner.errors import CannotWrite, EngineLost, ExitCode, world_failure
from poc_runner.result import Status
from tests.unit.conftest import write_scenario
from tests.unit.sample_results import criterion, errored, failing, passing

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "python-api.md"

SMALL = """\
apiVersion: poc-runner/v1
name: small
job:
  statement: When we test, we want it quick.
  stakeholders: [{role: CFO, wants: A figure}]
vars: {greeting: hello}
services: {app: {image: poc-runner/base:bookworm, command: [sleep, infinity]}}
steps: [{name: greet, service: app, run: "echo ${greeting}"}]
acceptance:
  criteria:
    - {id: greets, for: [CFO], check: {type: exit_code, step: greet}}
"""


def write(folder: Path, text: str = SMALL) -> Path:
    return write_scenario(folder, text, {})


def fresh_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return done.stdout


# The package


def test_all_is_sorted_and_exactly_the_public_names() -> None:
    """As httpx keeps its own: every public name of the package is in __all__, sorted, and
    nothing else is (once every name is loaded; submodules are not names of the API)."""
    assert poc_runner.__all__ == sorted(poc_runner.__all__)
    for name in poc_runner.__all__:
        assert getattr(poc_runner, name) is not None
    public_names = {
        name
        for name, value in vars(poc_runner).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public_names | {"__version__"} == set(poc_runner.__all__)


def test_the_contract_s_names_are_all_there() -> None:
    named = {  # python-api.md, section by section
        "validate", "load", "Validation", "Diagnostic", "Scenario", "run", "run_all", "Event",
        "RunResult", "Verdict", "CriterionResult", "StepRecord", "load_result", "sandbox",
        "ExecResult", "PocError", "InvalidInput", "SandboxError", "VerdictFailed", "Interrupted",
    }  # fmt: skip
    assert named <= set(poc_runner.__all__)
    assert poc_runner.__version__


def test_every_public_name_is_documented_and_typed() -> None:
    text = DOC.read_text()
    for name in poc_runner.__all__:
        assert re.search(rf"\b{name}\b", text), f"{name} is not in docs/python-api.md"
        value = getattr(poc_runner, name)
        if isinstance(value, types.FunctionType):
            assert value.__doc__, f"{name} has no docstring"
            hints = value.__annotations__
            assert "return" in hints, f"{name} has no return type"
    assert (ROOT / "poc_runner" / "py.typed").is_file()


def test_importing_the_package_loads_no_engine_sdk_models_or_click() -> None:
    loaded = fresh_python(
        """\
        import sys, poc_runner
        print(" ".join(sorted(sys.modules)))
        """
    ).split()
    heavy = {"docker", "pydantic", "click", "yaml", "requests", "duckdb", "typing"}
    assert not heavy & {name.split(".")[0] for name in loaded}
    assert not [name for name in loaded if name.startswith("poc_runner.")]


def test_loading_the_pytest_plugin_costs_pytest_alone() -> None:
    """pytest loads the plugin in every session of every project where poc-runner is
    installed: it must not load poc-runner's own weight until a scenario is collected."""
    loaded = fresh_python(
        """\
        import sys, pytest
        before = set(sys.modules)
        import poc_runner.pytest_plugin
        print(" ".join(sorted(set(sys.modules) - before)))
        """
    ).split()
    assert sorted(loaded) == ["poc_runner", "poc_runner.pytest_plugin"]


def test_the_functions_named_like_private_modules_stay_functions() -> None:
    """`sandbox` is also the name of the private package sandbox/ (and `run` was run.py's):
    importing the modules of the package leaves the public functions in place."""
    shown = fresh_python(
        """\
        import poc_runner
        from poc_runner.pipeline import run_all
        from poc_runner.sandbox.labels import new_run_id
        from poc_runner import units
        print(type(poc_runner.run).__name__, type(poc_runner.sandbox).__name__, units.__name__)
        """
    )
    assert shown.split() == ["function", "function", "poc_runner.units"]


# Validating and loading


def test_validate_says_what_poc_validate_says(tmp_path: Path) -> None:
    file = write(tmp_path / "broken", SMALL.replace("image:", "imgae:"))
    checked = poc_runner.validate(file.parent)
    assert not checked.ok and checked.scenario is None
    (problem,) = [d for d in checked.diagnostics if d.severity == "error"]
    assert (problem.file, problem.line, problem.key_path) == (str(file), 7, "services.app.imgae")
    cli = subprocess.run(
        [sys.executable, "-m", "poc_runner", "validate", str(file.parent)],
        capture_output=True,
        text=True,
    )
    assert str(checked) == cli.stdout + cli.stderr.rstrip("\n")


def test_validate_never_raises_for_a_path_that_names_no_one_scenario(tmp_path: Path) -> None:
    missing = poc_runner.validate(tmp_path / "nowhere")
    assert not missing.ok
    assert str(missing).startswith(f"{tmp_path / 'nowhere'}:1:1: error: no such file or folder")
    write(tmp_path / "two" / "a")
    write(tmp_path / "two" / "b", SMALL.replace("name: small", "name: other"))
    several = poc_runner.validate(tmp_path / "two")
    assert not several.ok
    assert "2 scenarios are under it" in several.diagnostics[0].message


def test_validate_reads_secrets_as_a_run_does_unless_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = write(tmp_path / "s", SMALL.replace("vars:", "secrets: [API_TOKEN]\nvars:"))
    monkeypatch.delenv("API_TOKEN", raising=False)
    unset = poc_runner.validate(file)
    assert not unset.ok
    assert "secret 'API_TOKEN' is not set" in str(unset)
    assert poc_runner.validate(file, secrets={"API_TOKEN": "t0ken-value"}).ok


def test_load_gives_the_scenario_or_invalid_input_with_every_diagnostic(tmp_path: Path) -> None:
    file = write(tmp_path / "ok")
    scenario = poc_runner.load(tmp_path / "ok", {"greeting": "bonjour"})
    assert isinstance(scenario, poc_runner.Scenario)
    assert (scenario.name, scenario.file, scenario.overrides) == (
        "small",
        file,
        {"greeting": "bonjour"},
    )
    assert scenario.steps[0].run == "echo bonjour"
    write(tmp_path / "bad", SMALL.replace("service: app", "service: ap"))
    with pytest.raises(poc_runner.InvalidInput) as refused:
        poc_runner.load(tmp_path / "bad")
    assert refused.value.exit_code == ExitCode.INVALID_INPUT == 2
    (problem,) = refused.value.diagnostics
    assert problem.key_path == "steps[0].service" and "no service named 'ap'" in problem.message
    assert "steps[0].service" in str(refused.value)


def test_a_var_the_scenario_does_not_use_is_refused_as_poc_run_refuses_it(tmp_path: Path) -> None:
    write(tmp_path / "ok")
    with pytest.raises(poc_runner.InvalidInput, match="--var greting is not used"):
        poc_runner.load(tmp_path / "ok", {"greting": "x"})
    with pytest.raises(poc_runner.InvalidInput, match="not a NAME"):
        poc_runner.load(tmp_path / "ok", {"not a name": "x"})


# What a run refuses before anything starts (nothing here reaches an engine)


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that got past its checks would need the engine: these tests must never."""

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("the run started")

    monkeypatch.setattr(_runs, "run_files", refuse)
    monkeypatch.setattr(_runs, "run_scenarios", refuse)


@pytest.mark.usefixtures("no_engine")
@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"keep": True, "reuse": True}, "give --keep or --reuse"),
        ({"variables": {"greeting": 1.5j}}, "give its value as text"),
        ({"on_event": "print"}, "is not callable"),
    ],
)
def test_a_run_refuses_options_that_cannot_go_together(
    tmp_path: Path, options: dict[str, object], said: str
) -> None:
    file = write(tmp_path / "ok")
    with pytest.raises(poc_runner.InvalidInput, match=said):
        poc_runner.run(file, out=tmp_path / "runs", **options)  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_engine")
def test_run_all_refuses_what_poc_run_refuses(tmp_path: Path) -> None:
    write(tmp_path / "ok")
    with pytest.raises(poc_runner.InvalidInput, match="1 or more"):
        poc_runner.run_all([tmp_path], parallel=0)
    with pytest.raises(poc_runner.InvalidInput, match="give both"):
        poc_runner.run_all([tmp_path], shard_durations=tmp_path / "d.json")
    with pytest.raises(poc_runner.InvalidInput, match="not of the form i/n"):
        poc_runner.run_all([tmp_path], shard="two", out=tmp_path / "runs")
    with pytest.raises(poc_runner.InvalidInput, match="no such file or folder"):
        poc_runner.run_all([tmp_path / "nowhere"])


@pytest.mark.usefixtures("no_engine")
def test_a_scenario_run_needs_its_file_and_the_variables_it_was_read_with(tmp_path: Path) -> None:
    write(tmp_path / "ok")
    scenario = poc_runner.load(tmp_path / "ok")
    with pytest.raises(poc_runner.InvalidInput, match="load it again with the variables"):
        poc_runner.run(scenario, variables={"greeting": "hi"}, out=tmp_path / "runs")
    built = poc_runner.Scenario.model_validate(scenario.model_dump(by_alias=True))
    with pytest.raises(poc_runner.InvalidInput, match="was not read from a file"):
        poc_runner.run(built, out=tmp_path / "runs")


def test_a_run_refused_before_it_starts_leaves_no_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)
    write(tmp_path / "ok")
    with pytest.raises(poc_runner.InvalidInput):
        poc_runner.run(tmp_path / "ok", keep=True, reuse=True)
    assert list((tmp_path / "tmp").iterdir()) == []


# The RunResult a caller reads


def test_a_result_reads_as_its_verdict() -> None:
    good, bad, broken = passing(), failing(), errored()
    assert good.passed and bool(good) and good.exit_code == 0
    assert not bad.passed and not bad and bad.exit_code == 1
    assert not broken and broken.exit_code == 3 == ExitCode.SANDBOX_ERROR
    assert good.verdict == "pass" and isinstance(good.verdict, str)
    assert good.criterion("recall").must
    with pytest.raises(KeyError, match="no criterion 'recal'; its criteria: recall, "):
        good.criterion("recal")


def test_raise_for_verdict_raises_the_error_of_the_outcome(tmp_path: Path) -> None:
    passing().raise_for_verdict()
    bad = failing()
    bad.write(tmp_path)
    with pytest.raises(poc_runner.VerdictFailed) as failed:
        bad.raise_for_verdict()
    assert failed.value.result is bad and failed.value.exit_code == 1
    assert str(tmp_path) in str(failed.value)
    assert "(must)" in str(failed.value)
    with pytest.raises(poc_runner.SandboxError, match="the sandbox failed"):
        errored().raise_for_verdict()


def test_to_dict_is_result_json_and_load_result_reads_it_back(tmp_path: Path) -> None:
    result = passing()
    (tmp_path / "run").mkdir()
    result.write(tmp_path / "run")
    on_disk = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result.to_dict() == on_disk
    assert result.folder == tmp_path / "run"
    again = poc_runner.load_result(tmp_path / "run")
    assert again.to_dict() == on_disk
    assert again.folder == tmp_path / "run" and again.scenario_file is None
    assert poc_runner.load_result(tmp_path / "run" / "result.json").folder == tmp_path / "run"
    assert again.endpoints == {}


def test_a_result_never_written_has_no_folder() -> None:
    with pytest.raises(AttributeError, match="neither written to nor read from"):
        _ = passing().folder


def test_a_criterion_says_whether_it_was_judged() -> None:
    assert criterion("a").judged
    assert criterion("b", passed=False).judged
    assert not criterion("c", passed=False, status=Status.NOT_JUDGED).judged


def test_load_result_of_a_missing_folder_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(poc_runner.InvalidInput, match="does not exist"):
        poc_runner.load_result(tmp_path)


# Errors


def test_the_error_classes_are_one_hierarchy_with_the_cli_s_exit_codes() -> None:
    codes = {
        poc_runner.PocError: 3,
        poc_runner.InvalidInput: 2,
        poc_runner.SandboxError: 3,
        poc_runner.VerdictFailed: 1,
        poc_runner.Interrupted: 130,
    }
    for kind, code in codes.items():
        assert issubclass(kind, poc_runner.PocError)
        assert kind.exit_code == code
    invalid = poc_runner.InvalidInput("bad", [])
    assert pickle.loads(pickle.dumps(invalid)).diagnostics == []
    failed = pickle.loads(pickle.dumps(poc_runner.VerdictFailed("no", passing())))
    assert failed.result.scenario == "invoice-dedupe"


def test_a_public_function_turns_world_failures_into_poc_errors() -> None:
    @public
    def engine_gone() -> None:
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    @public
    def disk_full() -> None:
        raise OSError(28, "No space left on device", "/runs/x")

    @public
    def bug() -> None:
        raise ZeroDivisionError

    with pytest.raises(EngineLost, match="connection refused"):
        engine_gone()
    with pytest.raises(CannotWrite, match="/runs/x: No space left"):
        disk_full()
    with pytest.raises(ZeroDivisionError):  # a bug stays a bug
        bug()
    assert world_failure(ValueError()) is None


# Progress


def test_events_reach_the_listener_and_a_listener_that_raises_is_dropped() -> None:
    seen: list[poc_runner.Event] = []
    display = _runs.display(seen.append)
    display.update("small", "step greet", "running", active=True)
    assert [(e.scenario, e.subject, e.status, e.active) for e in seen] == [
        ("small", "step greet", "running", True)
    ]

    def broken(_event: poc_runner.Event) -> None:
        raise RuntimeError("display gone")

    dropping = _runs.display(broken)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        dropping.update("small", "sandbox", "up")
        dropping.update("small", "sandbox", "down")
    assert len(said) == 1 and "display gone" in str(said[0].message)


def test_no_listener_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    _runs.display(None).update("small", "sandbox", "up")
    assert capsys.readouterr() == ("", "")


def test_what_could_not_be_written_beside_a_run_is_a_warning_not_a_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A library prints nothing: a history it could not record is a Python warning (pytest
    shows it in its summary; `poc run` says it as `warning: ...`)."""
    from poc_runner.pipeline import Finished

    said = "run x not recorded in the history: disk full"
    with pytest.warns(_runs.NotWritten, match="not recorded in the history"):
        (result,) = _runs._located(
            [Finished(passing(), tmp_path, None, (said,))], [tmp_path / "scenario.yaml"]
        )
    assert result.folder == tmp_path
    assert capsys.readouterr() == ("", "")
