"""The `poc` command as users and CI meet it: output formats, exit codes, and no tracebacks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result

from poc_runner import validation
from poc_runner.cli import cli
from poc_runner.errors import ExitCode
from poc_runner.result import CriterionResult, RunResult, StepRecord
from poc_runner.schema import result_schema_json, scenario_schema_json
from tests.unit.conftest import VALID, write_scenario

ROOT = Path(__file__).resolve().parents[2]


def poc(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    return write_scenario(
        tmp_path / "bad", VALID.replace("    image: postgres:16", "    imgae: postgres:16")
    )


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_scenario(tmp_path / "good")


class TestValidate:
    def test_valid_file_exits_0_and_says_so(self, good: Path) -> None:
        result = poc("validate", str(good))
        assert result.exit_code == ExitCode.PASSED
        assert result.stdout == ""
        assert "1 file checked: 1 valid, 0 errors, 0 warnings" in result.stderr

    def test_text_format_is_file_line_col(self, bad: Path) -> None:
        result = poc("validate", str(bad))
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert result.stdout == (
            f"{bad}:26:5: error: unknown key 'imgae' (did you mean 'image'?) [services.db.imgae]\n"
        )

    def test_json_format_is_a_list_of_diagnostics(self, bad: Path, good: Path) -> None:
        result = poc("validate", "--format", "json", str(bad), str(good))
        (entry,) = json.loads(result.stdout)
        assert entry == {
            "file": str(bad),
            "line": 26,
            "column": 5,
            "message": "unknown key 'imgae' (did you mean 'image'?)",
            "key_path": "services.db.imgae",
            "rule": "unknown-key",
            "severity": "error",
            "fix": "image",
        }
        assert json.loads(poc("validate", "--format", "json", str(good)).stdout) == []

    def test_github_format_is_workflow_annotations(self, bad: Path) -> None:
        result = poc("validate", "--format", "github", str(bad))
        assert result.stdout.startswith(
            f"::error file={bad},line=26,col=5,title=poc validate%3A unknown-key::"
        )

    def test_every_file_in_a_folder_is_checked_and_reported(
        self, tmp_path: Path, bad: Path, good: Path
    ) -> None:
        write_scenario(
            tmp_path / "nested/deeper", VALID.replace("name: invoice-dedupe", "name: Nope")
        )
        (tmp_path / ".hidden").mkdir()
        write_scenario(tmp_path / ".hidden", "garbage: [")
        result = poc("validate", str(tmp_path))
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert len(result.stdout.splitlines()) == 2
        assert "3 files checked: 1 valid, 2 errors" in result.stderr

    def test_duplicate_scenario_names_across_files(self, tmp_path: Path) -> None:
        first = write_scenario(tmp_path / "a")
        second = write_scenario(tmp_path / "b")
        result = poc("validate", str(first), str(second))
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert (
            f"{second}:2:7: error: scenario name 'invoice-dedupe' is also used by {first}"
            in result.stdout
        )

    def test_many_files_validated_on_every_core_say_what_one_at_a_time_says(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Enough files to be validated by worker processes: the same findings, in the same
        order, a duplicate name and a broken file among them."""
        for index in range(20):
            write_scenario(tmp_path / f"s{index:02}", VALID.replace("invoice-dedupe", f"s{index}"))
        write_scenario(tmp_path / "s07", VALID.replace("invoice-dedupe", "s3"))
        write_scenario(tmp_path / "s11", VALID.replace("image: postgres", "imgae: postgres"))
        parallel = poc("validate", "--format", "json", str(tmp_path))
        monkeypatch.setattr(validation, "_PARALLEL_FROM", 10**6)
        sequential = poc("validate", "--format", "json", str(tmp_path))
        assert parallel.stdout == sequential.stdout
        assert (
            parallel.stderr
            == sequential.stderr
            == "20 files checked: 18 valid, 2 errors, 0 warnings\n"
        )
        rules = [d["rule"] for d in json.loads(parallel.stdout)]
        assert "duplicate-name" in rules and "unknown-key" in rules

    def test_missing_path_and_empty_folder_are_errors(self, tmp_path: Path) -> None:
        result = poc("validate", str(tmp_path / "nope"), str(tmp_path))
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert f"{tmp_path / 'nope'}:1:1: error: no such file or folder" in result.stdout
        assert f"{tmp_path}:1:1: error: no scenario.yaml" in result.stdout

    def test_var_option_overrides_and_is_checked(self, good: Path) -> None:
        assert poc("validate", "--var", "threshold=0.5", str(good)).exit_code == ExitCode.PASSED
        result = poc("validate", "--var", "threshold=high", str(good))
        assert result.exit_code == ExitCode.INVALID_INPUT
        bad_option = poc("validate", "--var", "no-equals", str(good))
        assert bad_option.exit_code == ExitCode.INVALID_INPUT
        assert "NAME=VALUE" in bad_option.stderr

    def test_strict_fails_on_warnings(self, tmp_path: Path) -> None:
        scenario = write_scenario(
            tmp_path,
            VALID.replace('vars: {threshold: "0.95"}', 'vars: {threshold: "0.95", spare: x}'),
        )
        assert poc("validate", str(scenario)).exit_code == ExitCode.PASSED
        assert poc("validate", "--strict", str(scenario)).exit_code == ExitCode.INVALID_INPUT

    def test_no_paths_is_a_usage_error(self) -> None:
        assert poc("validate").exit_code == ExitCode.INVALID_INPUT

    @pytest.mark.parametrize(
        ("content", "fragment"),
        [
            (b"a: !!python/object/apply:os.system ['touch /tmp/pwned']\n", "not allowed"),
            (b"services:\n\tapp: {}\n", "tab character"),
            (b"services: {app: {image: x\n", "opened at line 1"),
            (b"\xff\xfe\x00", "not UTF-8"),
            (b"#" * (1024 * 1024 + 10), "larger than 1024 KiB"),
            (b"a: [" * 5000, "levels deep"),
            (b"", "empty"),
        ],
    )
    def test_hostile_files_get_one_line_and_no_traceback(
        self, tmp_path: Path, content: bytes, fragment: str
    ) -> None:
        file = tmp_path / "scenario.yaml"
        file.write_bytes(content)
        result = poc("validate", str(file))
        assert result.exit_code == ExitCode.INVALID_INPUT
        (line,) = result.stdout.splitlines()
        assert line.startswith(f"{file}:")
        assert fragment in line
        assert "Traceback" not in result.output


def test_help_lists_the_commands() -> None:
    result = poc("--help")
    assert result.exit_code == 0
    for command in ("validate", "run", "up", "shell", "down", "clean", "doctor", "schema", "init"):
        assert command in result.stdout


class TestSchema:
    def test_committed_copy_matches_the_models(self) -> None:
        committed = (ROOT / "schema/scenario-v1.schema.json").read_text()
        assert committed == scenario_schema_json(), "run `make schema` and commit the result"

    def test_poc_schema_prints_it(self) -> None:
        assert json.loads(poc("schema").stdout)["title"].startswith("poc-runner scenario")

    def test_committed_result_schema_matches_the_code(self) -> None:
        committed = (ROOT / "schema/result-v1.schema.json").read_text()
        assert committed == result_schema_json(), "run `make schema` and commit the result"
        assert json.loads(poc("schema", "--result").stdout)["title"].startswith("poc-runner run")

    def test_a_result_with_every_part_validates_and_a_broken_one_does_not(self) -> None:
        result = RunResult("demo", "20261123T000000Z-abcdef", "2026-11-23T00:00:00.000Z")
        result.criteria.append(
            CriterionResult("c", None, True, False, 1.0, 3, ">= 2", "seen", ["CFO"], "json")
        )
        result.steps.append(StepRecord("s", "app", 0, 0.1, False, True, None, {}, {}))
        schema = json.loads(result_schema_json())
        document = json.loads(result.to_json())
        jsonschema.validate(document, schema)
        document["verdict"] = "maybe"
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, schema)

    def test_editors_accept_the_example_and_flag_unknown_keys(self) -> None:
        schema = json.loads(scenario_schema_json())
        document = yaml.safe_load(VALID)
        jsonschema.validate(document, schema)
        document["services"]["db"]["imgae"] = "x"
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, schema)


class TestInit:
    def test_scaffold_is_a_valid_scenario_without_warnings(self, tmp_path: Path) -> None:
        folder = tmp_path / "acme-dedupe"
        result = poc("init", str(folder))
        assert result.exit_code == 0
        assert (folder / "scenario.yaml").read_text().count("name: acme-dedupe") == 1
        check = poc("validate", str(folder))
        assert check.exit_code == ExitCode.PASSED, check.output
        assert "0 warnings" in check.stderr

    def test_refuses_a_folder_with_files_and_changes_nothing(self, tmp_path: Path) -> None:
        folder = tmp_path / "acme"
        folder.mkdir()
        (folder / "keep.txt").write_text("mine")
        result = poc("init", str(folder))
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert "not an empty folder" in result.stderr
        assert [p.name for p in folder.iterdir()] == ["keep.txt"]

    def test_refuses_a_name_that_is_not_a_scenario_name(self, tmp_path: Path) -> None:
        result = poc("init", str(tmp_path / "Acme Dedupe"))
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert "lowercase letters" in result.stderr
        assert not (tmp_path / "Acme Dedupe").exists()


def test_example_scenarios_in_the_repository_are_valid() -> None:
    compose_example = ROOT / "scenarios" / "stock-alerts"
    others = [p for p in (ROOT / "scenarios").iterdir() if p.is_dir() and p != compose_example]
    result = poc("validate", "--strict", *map(str, others))
    assert result.exit_code == ExitCode.PASSED, result.output
    # The Compose example keeps the vendor's file as it is: only what a sandbox ignores is said
    found = poc("validate", "--format", "json", str(compose_example))
    assert found.exit_code == ExitCode.PASSED, found.output
    rules = {d["rule"] for d in json.loads(found.output.split("\n1 file checked")[0])}
    assert rules == {"ignored", "unset-env"}


@pytest.mark.parametrize("streams", ["stdout", "both"])
def test_a_reader_that_leaves_at_once_leaves_the_exit_code_alone(
    tmp_path: Path, streams: str
) -> None:
    """`poc validate ... | true`: the reader is gone before a byte is written; the command
    still ends with its own outcome (2, an invalid file), not SIGPIPE's 141."""
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: poc-runner/v1\nname: BAD NAME\n")
    reader, writer = os.pipe()
    os.close(reader)  # nobody will read
    done = subprocess.run(
        [sys.executable, "-m", "poc_runner", "validate", str(bad)],
        stdout=writer,
        stderr=writer if streams == "both" else subprocess.DEVNULL,
        check=False,
        timeout=60,
    )
    os.close(writer)
    assert done.returncode == ExitCode.INVALID_INPUT
