"""compose-go's own test cases (README.md), each run through poc-runner's reading of Compose
content: a template through Compose's interpolation, an env-file text through the env-file
reader, and a project (Compose files, env files, given values) through the scenario's Compose
stage and then `poc validate`'s whole check. Every case names the upstream test it comes from;
a deviation says the spec's words for it; not_run.yaml says why the rest are not run."""

from __future__ import annotations

import posixpath
import re
import shlex
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from poc_runner.compose.dotenv import parse_env, project_variables
from poc_runner.compose.project import compose_services
from poc_runner.diagnostics import Diagnostic, Severity
from poc_runner.interpolation import Interpolation, Values, compose_text
from poc_runner.loader import parse, read_text
from poc_runner.model.volumes import short_volume
from poc_runner.validation import validate_file
from poc_runner.validation.findings import Findings

CORPUS = Path(__file__).parent
AREAS = ("interpolation", "dotenv", "environment", "merge", "extends", "yaml")
TEMPLATE_VALUES = {"FOO": "first", "BAR": "", "JSON": '{"json":2}'}  # template_test.go's mapping
SPEC_SOURCE = "scenario-v1.md"


def _cases() -> list[Any]:
    params = []
    for area in AREAS:
        for case in yaml.safe_load((CORPUS / f"{area}.yaml").read_text())["cases"]:
            params.append(pytest.param(case, id=f"{area}: {case['upstream']}"))
    return params


CASES = _cases()


@pytest.mark.parametrize("case", CASES)
def test_compose_content_reads_as_compose_gos_own_tests_say(
    case: dict[str, Any], tmp_path: Path
) -> None:
    if "text" in case:
        failures = _template(case)
    elif "env_text" in case:
        failures = _env_text(case)
    else:
        failures = _project(case, tmp_path)
    assert not failures, "\n".join(failures)


def test_every_upstream_case_is_run_or_says_why_not() -> None:
    not_run = yaml.safe_load((CORPUS / "not_run.yaml").read_text())["cases"]
    assert all(entry["why"] and entry["area"] in AREAS for entry in not_run)
    names = [entry["upstream"] for entry in not_run] + [
        case.values[0]["upstream"] for case in CASES
    ]
    assert len(names) == len(set(names)), "an upstream case is listed twice"


def test_each_deviation_cites_the_spec_and_what_compose_gives() -> None:
    deviations = [case.values[0] for case in CASES if "deviation" in case.values[0]]
    assert deviations
    for case in deviations:
        assert case["deviation"]["spec"].startswith(SPEC_SOURCE), case["upstream"]
        assert "no value and no default is an error" in case["deviation"]["spec"]
        assert case["deviation"]["compose"], case["upstream"]


def _template(case: dict[str, Any]) -> list[str]:
    result = Interpolation()
    values = Values(case.get("values", TEMPLATE_VALUES))
    value = compose_text(case["text"], ("x",), values, result)
    problems = [message for _, message in result.problems]
    failures = []
    if "gives" in case:
        if problems:
            failures.append(f"problems: {problems}")
        if value != case["gives"]:
            failures.append(f"gives {value!r}, not {case['gives']!r}")
    if "refused" in case:
        if not problems:
            failures.append(f"no error; gives {value!r}")
        for needle in case["refused"]:
            if not any(needle in problem for problem in problems):
                failures.append(f"no error naming {needle!r}: {problems}")
    return failures


def _env_text(case: dict[str, Any]) -> list[str]:
    parsed = parse_env(case["env_text"], case.get("given", {}))
    values = project_variables(parsed)
    failures = []
    for name, value in case["values"].items():
        if values.get(name) != value:
            failures.append(f"{name} is {values.get(name)!r}, not {value!r}")
    if case.get("only") and set(values) != set(case["values"]):
        failures.append(f"names {sorted(values)}, not {sorted(case['values'])}")
    failures += [f"{name} is set" for name in case.get("unset", []) if name in values]
    wanted = case.get("errors", [])
    if not wanted and parsed.problems:
        failures.append(f"problems: {parsed.problems}")
    for error in wanted:
        if not any(
            all(needle in message for needle in error["naming"]) and error.get("line", line) == line
            for line, message in parsed.problems
        ):
            failures.append(f"no error like {error}: {parsed.problems}")
    return failures


def _project(case: dict[str, Any], folder: Path) -> list[str]:
    path = _write(case, folder)
    started = time.monotonic()
    result = validate_file(path)
    took = time.monotonic() - started
    merged, stage = _merged(path, case.get("values", {}))
    ignored_rules = set(case.get("ignored_rules", {}))
    failures = []
    if took > case.get("within_seconds", took):
        failures.append(f"took {took:.1f} s")
    for key, found in (
        ("errors", _errors(result.diagnostics)),
        ("compose_errors", [d for d in _errors(stage) if d.rule not in ignored_rules]),
    ):
        failures += _expected_errors(key, case.get(key), found)
    services = merged.get("services") if isinstance(merged.get("services"), dict) else {}
    for name, fields in case.get("fields", {}).items():
        service = services.get(name)
        tree = service if case.get("as_written") else _canonical(service)
        for where, expected in fields.items():
            actual = _at(tree, where)
            if not _same(actual, expected):
                failures.append(f"{name}.{where} is {actual!r}, not {expected!r}")
    for where, expected in case.get("top", {}).items():
        if _at(merged, where) != expected:
            failures.append(f"{where} is {_at(merged, where)!r}, not {expected!r}")
    for name, env in case.get("env", {}).items():
        failures += _environment(name, services.get(name), env, case.get("env_only", False))
    if "merged" in case:
        failures += _as_merged(case, folder, merged)
    return failures


def _write(case: dict[str, Any], folder: Path) -> Path:
    for name, text in case["files"].items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    scenario: dict[str, Any] = {
        "apiVersion": "poc-runner/v1",
        "name": "conformance",
        "compose": case["compose"],
    }
    if case.get("values"):
        scenario["vars"] = case["values"]  # Compose's shell: given values, never the host's
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    return path


def _merged(path: Path, values: dict[str, str]) -> tuple[dict[str, Any], list[Diagnostic]]:
    """The scenario's data after the Compose stage alone, and what the stage reported."""
    document = parse(read_text(path))
    findings = Findings(str(path), document.source_map)
    compose_services(document.data, path, findings, dict(values), {}, document.references)
    return document.data, findings.diagnostics


def _errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.ERROR]


def _expected_errors(key: str, wanted: list[Any] | None, found: list[Diagnostic]) -> list[str]:
    if wanted is None:
        return []
    shown = [f"{Path(d.file).name}:{d.line} {d.key_path}: {d.message}" for d in found]
    if not wanted and found:
        return [f"{key}: {shown}"]
    failures = []
    for error in wanted:
        if not any(_is_like(d, error) for d in found):
            failures.append(f"{key}: none like {error} in {shown}")
    return failures


def _is_like(found: Diagnostic, error: dict[str, Any]) -> bool:
    return (
        all(needle in found.message for needle in error["naming"])
        and found.key_path.startswith(error.get("at", ""))
        and error.get("line", found.line) == found.line
    )


def _environment(name: str, service: Any, env: dict[str, Any], only: bool) -> list[str]:
    actual = _pairs((service or {}).get("environment", {}))
    failures = []
    for key, value in env.items():
        if value is None and actual.get(key) is not None:
            failures.append(f"{name}: {key} is set ({actual[key]!r}), and must not be")
        elif value is not None and actual.get(key) != value:
            failures.append(f"{name}: {key} is {actual.get(key)!r}, not {value!r}")
    set_here = {key for key, value in actual.items() if value is not None}
    wanted = {key for key, value in env.items() if value is not None}
    if only and set_here != wanted:
        failures.append(f"{name}: environment {sorted(set_here)}, not {sorted(wanted)}")
    return failures


def _as_merged(case: dict[str, Any], folder: Path, merged: dict[str, Any]) -> list[str]:
    """The merged services equal those of the expected document, read the same way."""
    expected = folder / "expected"
    expected.mkdir()
    (expected / "compose.yaml").write_text(case["merged"])
    for name, text in case["files"].items():
        if not name.endswith(".yaml"):  # the env files a merged env_file names
            (expected / name).write_text(text)
    reference: Any = "compose.yaml"
    if isinstance(case["compose"], dict) and case["compose"].get("profiles"):
        reference = {"files": ["compose.yaml"], "profiles": case["compose"]["profiles"]}
    scenario = {"apiVersion": "poc-runner/v1", "name": "expected", "compose": reference}
    (expected / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    want, _ = _merged(expected / "scenario.yaml", {})
    failures = []
    for section in case.get("compare", ["services"]):
        got_section = {k: _canonical(v) for k, v in (merged.get(section) or {}).items()}
        want_section = {k: _canonical(v) for k, v in (want.get(section) or {}).items()}
        for ignored in case.get("ignored", {}):
            parts = ignored.split(".")
            if parts[0] == section:
                _drop(got_section, parts[1:])
                _drop(want_section, parts[1:])
        if got_section != want_section:
            failures.append(f"{section}: merged {got_section}\n  expected {want_section}")
    return failures


def _canonical(service: Any) -> Any:
    """A service in one spelling per field, as Compose's own model reads it: mappings for
    environment, labels, build args, depends_on and networks; lists for env_file and tmpfs;
    long forms for ports, volumes, secrets and configs; commands split as a shell splits."""
    if not isinstance(service, dict):
        return service
    out = dict(service)
    for key in ("environment", "labels"):
        if key in out:
            out[key] = _pairs(out[key])
    build = {"context": out["build"]} if isinstance(out.get("build"), str) else out.get("build")
    if isinstance(build, dict):
        out["build"] = {**build, **({"args": _pairs(build["args"])} if "args" in build else {})}
    if "env_file" in out:
        files = [out["env_file"]] if isinstance(out["env_file"], str) else out["env_file"]
        out["env_file"] = [
            {"path": f, "required": True} if isinstance(f, str) else {"required": True, **f}
            for f in files
        ]
    if isinstance(out.get("tmpfs"), str):
        out["tmpfs"] = [out["tmpfs"]]
    if isinstance(out.get("networks"), list):
        out["networks"] = dict.fromkeys(out["networks"])
    if "depends_on" in out:
        wanted = out["depends_on"]
        wanted = dict.fromkeys(wanted) if isinstance(wanted, list) else wanted
        out["depends_on"] = {
            name: {"condition": "service_started", "required": True, **(how or {})}
            for name, how in wanted.items()
        }
    if "ports" in out:
        out["ports"] = [_long_port(port) for port in out["ports"]]
    if "volumes" in out:
        out["volumes"] = [_long_volume(volume) for volume in out["volumes"]]
    for key in ("secrets", "configs"):
        if key in out:
            out[key] = [
                {"source": entry}
                if isinstance(entry, str)
                else {k: v for k, v in entry.items() if k not in ("file", "content")}
                for entry in out[key]
            ]
    for key in ("command", "entrypoint"):
        if isinstance(out.get(key), str):
            out[key] = shlex.split(out[key])
    return out


def _pairs(value: Any) -> Any:
    """`NAME=value` lists and NAME: value mappings alike, values as text (None: no value)."""
    if isinstance(value, list):
        return {
            name: text if sep else None
            for name, sep, text in (str(item).partition("=") for item in value)
        }
    if isinstance(value, dict):
        return {
            name: None
            if text is None
            else str(text).lower()
            if isinstance(text, bool)
            else str(text)
            for name, text in value.items()
        }
    return value


def _long_port(port: Any) -> Any:
    if isinstance(port, dict):
        published = port.get("published")
        return {
            **port,
            "protocol": port.get("protocol", "tcp"),
            **({} if published is None else {"published": str(published)}),
        }
    text, _, protocol = str(port).partition("/")
    *host, target = text.split(":")
    long: dict[str, Any] = {"target": int(target) if target.isdigit() else target}
    long["protocol"] = protocol or "tcp"
    if host and host[-1]:
        long["published"] = host[-1]
    if len(host) > 1:
        long["host_ip"] = host[-2]
    return long


def _long_volume(volume: Any) -> Any:
    if not isinstance(volume, str):
        return volume
    long = short_volume(volume)
    return {k: v for k, v in long.items() if not (k == "read_only" and v is False)}


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


def _at(tree: Any, where: str) -> Any:
    """The value at `a.b[0].c`."""
    for name, index in _STEP.findall(where):
        try:
            tree = tree[int(index)] if index else tree[name]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return tree


def _same(actual: Any, expected: Any) -> bool:
    """Equal; `{path: p}` is a path (normalised), `{length: n}` a list of n entries."""
    if isinstance(expected, dict) and set(expected) == {"path"}:
        return isinstance(actual, str) and posixpath.normpath(actual) == posixpath.normpath(
            expected["path"]
        )
    if isinstance(expected, dict) and set(expected) == {"length"}:
        return isinstance(actual, list) and len(actual) == expected["length"]
    return bool(actual == expected)


def _drop(tree: Any, path: list[str]) -> None:
    """Remove what `path` ("*": any key) leads to, where it leads anywhere."""
    if not path or not isinstance(tree, dict):
        return
    head, rest = path[0], path[1:]
    for key in list(tree) if head == "*" else [head]:
        if key in tree:
            if rest:
                _drop(tree[key], rest)
            else:
                del tree[key]
