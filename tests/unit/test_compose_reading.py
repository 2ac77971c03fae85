"""Reading Compose content safely and as Compose does, beyond compose-go's own cases
(tests/compose_conformance): YAML anchors are never changed in place, values reach env files in
Compose's order, a folder where a file belongs is a clear error, and what reading builds is
bounded (the doubling env file, thousands of nested defaults, a 2,000-deep `extends` chain)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from poc_runner.diagnostics import Diagnostic, Severity
from poc_runner.interpolation import MAX_NESTING, MAX_VALUE, Interpolation, Values, compose_text
from poc_runner.validation import Validation, validate_file

HEADER = "apiVersion: poc-runner/v1\nname: reading\n"


def scenario(folder: Path, files: dict[str, str], **variables: str) -> Validation:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return validate_file(folder / "scenario.yaml", variables)


def errors(result: Validation) -> list[Diagnostic]:
    return [d for d in result.diagnostics if d.severity is Severity.ERROR]


def doubling_env(lines: int) -> str:
    """The 1 KB bomb: A0 is 1,000 characters, each next line twice the one before."""
    return "\n".join(
        ["A0=" + "x" * 1000] + [f"A{i}=${{A{i - 1}}}${{A{i - 1}}}" for i in range(1, lines)]
    )


class TestAnchors:
    def test_a_build_block_shared_through_a_merge_key_is_rebased_once(self, tmp_path: Path) -> None:
        result = scenario(
            tmp_path,
            {
                "scenario.yaml": f"{HEADER}compose: stack/compose.yaml\n",
                "stack/api/Dockerfile": "FROM poc-runner/base:bookworm\n",
                "stack/compose.yaml": """\
                    x-app: &app
                      build: {context: ./api, args: {MODE: demo}}
                      environment: {ROLE: app}
                    services:
                      api: {<<: *app, command: [sleep, infinity]}
                      worker: {<<: *app, environment: {ROLE: worker}}
                    """,
            },
        )
        assert errors(result) == []
        assert result.scenario is not None
        for name in ("api", "worker"):
            build = result.scenario.services[name].build_spec
            assert build is not None and (build.context, build.args) == (
                "stack/api",
                {"MODE": "demo"},
            )
        assert result.scenario.services["worker"].env == {"ROLE": "worker"}
        assert result.scenario.services["api"].env == {"ROLE": "app"}

    def test_a_service_aliased_whole_keeps_its_own_copy(self, tmp_path: Path) -> None:
        result = scenario(
            tmp_path,
            {
                "scenario.yaml": f"{HEADER}compose: [base.yaml, over.yaml]\n",
                "base.yaml": """\
                    services:
                      a: &a {image: busybox, environment: [MODE=a]}
                      b: *a
                    """,
                "over.yaml": "services:\n  b: {environment: [MODE=b]}\n",
            },
        )
        assert result.scenario is not None
        assert result.scenario.services["a"].env == {"MODE": "a"}
        assert result.scenario.services["b"].env == {"MODE": "b"}


class TestPrecedence:
    def test_a_var_reaches_the_references_inside_the_env_file(self, tmp_path: Path) -> None:
        files = {
            "scenario.yaml": f"{HEADER}compose: compose.yaml\n",
            ".env": "FOO=foo\nBAR=${FOO}\n",
            "compose.yaml": "services:\n  p: {image: busybox, environment: {BAR: '${BAR}'}}\n",
        }
        plain = scenario(tmp_path / "a", files)
        given = scenario(tmp_path / "b", files, FOO="zot")
        assert plain.scenario is not None and given.scenario is not None
        assert plain.scenario.services["p"].env == {"BAR": "foo"}
        assert given.scenario.services["p"].env == {"BAR": "zot"}

    def test_a_services_env_file_sees_its_environment(self, tmp_path: Path) -> None:
        result = scenario(
            tmp_path,
            {
                "scenario.yaml": f"{HEADER}compose: compose.yaml\n",
                "app.env": "HOST=file\nURL=http://${HOST}/\n",
                "compose.yaml": """\
                    services:
                      p: {image: busybox, env_file: app.env, environment: {HOST: service}}
                    """,
            },
        )
        assert result.scenario is not None
        assert result.scenario.services["p"].env == {"HOST": "service", "URL": "http://service/"}

    def test_a_quoted_value_with_a_comment_after_it_swallows_nothing(self, tmp_path: Path) -> None:
        result = scenario(
            tmp_path,
            {
                "scenario.yaml": f"{HEADER}compose: compose.yaml\n",
                "app.env": 'A = "echo \'x\'" # inline comment\nB=2\nC="3"\n',
                "compose.yaml": "services:\n  p: {image: busybox, env_file: app.env}\n",
            },
        )
        assert result.scenario is not None
        assert result.scenario.services["p"].env == {"A": "echo 'x'", "B": "2", "C": "3"}


class TestFoldersWhereFilesBelong:
    def test_an_env_file_that_is_a_folder_is_an_error_naming_it(self, tmp_path: Path) -> None:
        (tmp_path / "conf").mkdir()
        result = scenario(
            tmp_path,
            {
                "scenario.yaml": f"{HEADER}compose: compose.yaml\n",
                "compose.yaml": "services:\n  p: {image: busybox, env_file: conf}\n",
            },
        )
        (found,) = errors(result)
        assert (found.key_path, found.rule) == ("services.p.env_file", "missing-file")
        assert "'conf'" in found.message and "is a folder, not a file" in found.message

    def test_a_compose_reference_that_is_a_folder_is_an_error(self, tmp_path: Path) -> None:
        (tmp_path / "somedir").mkdir()
        result = scenario(tmp_path, {"scenario.yaml": f"{HEADER}compose: somedir\n"})
        assert any("is a folder, not a file" in d.message for d in errors(result))
        assert all(d.rule != "internal" for d in result.diagnostics)


class TestBoundedReading:
    def test_the_doubling_env_file_is_refused_at_the_line_that_passes_the_bound(
        self, tmp_path: Path
    ) -> None:
        result = scenario(
            tmp_path,
            {
                "scenario.yaml": f"{HEADER}compose: compose.yaml\n",
                ".env": doubling_env(40),
                "compose.yaml": "services:\n  p: {image: busybox, environment: {X: '${A3}'}}\n",
            },
        )
        (refused,) = [d for d in errors(result) if d.rule == "env-file"]
        # A7 is 128,000 characters; A8 would be 256,000, past 128 KiB
        assert (Path(refused.file).name, refused.line) == (".env", 9)
        assert refused.message.startswith("A8: filling in `A7` makes this value longer than")
        assert "the rest of the file is not read" in refused.message
        assert all(d.rule != "internal" for d in result.diagnostics)

    def test_a_value_may_not_grow_past_the_bound_in_a_compose_file_either(
        self, tmp_path: Path
    ) -> None:
        big = "y" * 60_000
        result = scenario(
            tmp_path,
            {
                "scenario.yaml": f"{HEADER}vars: {{BIG: {big}}}\ncompose: compose.yaml\n",
                "compose.yaml": "services:\n  p: {image: busybox, command: '${BIG}${BIG}${BIG}'}\n",
            },
        )
        (found,) = errors(result)
        assert (Path(found.file).name, found.line, found.key_path) == (
            "compose.yaml",
            2,
            "services.p.command",
        )
        assert "filling in `BIG`" in found.message

    def test_a_value_written_longer_than_the_bound_is_not_refused(self) -> None:
        written = "z" * (MAX_VALUE + 10) + "$$"
        result = Interpolation()
        assert compose_text(written, (), Values({}), result) == written[:-1]
        assert result.problems == []

    def test_thousands_of_nested_defaults_are_refused_not_recursed(self) -> None:
        nested = "${a:-" * 3000 + "x" + "}" * 3000
        result = Interpolation()
        assert compose_text(nested, ("image",), Values({}), result) == nested
        ((_, message),) = result.problems
        assert f"more than {MAX_NESTING} levels deep" in message
        shallow = "${a:-" * MAX_NESTING + "x" + "}" * MAX_NESTING
        assert compose_text(shallow, (), Values({}), Interpolation()) == "x"

    def test_a_2000_deep_extends_chain_is_one_clear_error(self, tmp_path: Path) -> None:
        chain = [f"  s{i}: {{extends: s{i + 1}}}" for i in range(1999)]
        result = scenario(
            tmp_path,
            {
                "scenario.yaml": f"{HEADER}compose: compose.yaml\n",
                "compose.yaml": "services:\n" + "\n".join(chain) + "\n  s1999: {image: busybox}\n",
            },
        )
        (found,) = errors(result)
        assert found.rule == "extends" and "more than 32 services deep" in found.message
        assert found.key_path.endswith(".extends")

    def test_what_all_filled_values_add_is_bounded_and_said_once(self, tmp_path: Path) -> None:
        big = "v" * 100_000  # each reference adds 100,000 characters: 200 of them, 20 MB
        labels = "".join(f"      l{i}: '${{BIG}}'\n" for i in range(200))
        result = scenario(
            tmp_path,
            {
                "scenario.yaml": f"{HEADER}vars: {{BIG: {big}}}\ncompose: compose.yaml\n",
                "compose.yaml": f"services:\n  p:\n    image: busybox\n    labels:\n{labels}",
            },
        )
        (found,) = errors(result)
        assert "would add more than 16 MiB to this scenario in all" in found.message
        assert found.key_path.startswith("services.p.labels.l")


def test_a_mapping_shared_by_services_and_steps_is_filled_once_in_each_dialect(
    tmp_path: Path,
) -> None:
    """`$${X}` is a literal `${X}` to the container and to the step alike: Compose's filling of
    the services never changes the mapping the step's `env` shares through the anchor."""
    result = scenario(
        tmp_path,
        {
            "scenario.yaml": HEADER
            + 'x-env: &env {A: "$${X}", B: "${mode}"}\n'
            + "vars: {mode: fast}\n"
            + "services:\n  app: {image: busybox, environment: *env, command: [sleep, infinity]}\n"
            + 'steps:\n  - {name: s, service: app, run: "echo $A", env: *env}\n'
        },
    )
    assert errors(result) == []
    assert result.scenario is not None
    assert result.scenario.services["app"].env == {"A": "${X}", "B": "fast"}
    assert result.scenario.steps[0].environment == {"A": "${X}", "B": "fast"}
