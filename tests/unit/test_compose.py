"""Compose files port unchanged (spec, "compose"): a corpus of real-world-shaped files validates
as the field table says, whether a scenario references the file or pastes its services; every
diagnostic points into the file that wrote it; merging, extends, profiles, env files and
interpolation follow Compose."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from poc_runner.compose.dotenv import parse_env
from poc_runner.diagnostics import Severity
from poc_runner.interpolation import Interpolation, Values, compose_text
from poc_runner.validation import Validation, validate_file

CORPUS = Path(__file__).parents[1] / "data" / "compose"
HEADER = "apiVersion: poc-runner/v1\nname: corpus\n"

# corpus file -> the errors (rule, key path) the spec's table gives it; {} validates
EXPECTED: dict[str, set[tuple[str, str]]] = {
    "webapp": set(),
    "wordpress": set(),
    "monitoring": set(),
    "elastic": set(),
    "microservices": set(),
    "jobs": set(),
    "files": set(),
    "clock": set(),
    "override": set(),
    "traefik": {("security", "services.traefik.volumes[0]")},
    "netadmin": {
        ("security", "services.vpn.cap_add[0]"),
        ("security", "services.vpn.privileged"),
        ("security", "services.vpn.devices"),
        ("security", "services.vpn.sysctls"),
    },
    "host-etc": {
        ("security", "services.agent.volumes[0]"),
        ("security", "services.agent.extra_hosts"),
    },
    "network-mode": {
        ("security", "services.sniffer.network_mode"),
        ("security", "services.sniffer.pid"),
        ("security", "services.sniffer.dns"),
    },
}
FILES = {"override": ["compose.yaml", "compose.override.yaml"]}
EXTRA = {"files": "secrets: [API_TOKEN]\n"}  # a secret from the host's environment is listed
NOT_PASTED = {"files"}  # its file-based configs and secrets belong in a Compose file (spec)


def corpus_folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(CORPUS / name, folder)
    return folder


def referenced(tmp_path: Path, name: str, **variables: str) -> Validation:
    folder = corpus_folder(tmp_path, name)
    files = FILES.get(name, ["compose.yaml"])
    text = f"{HEADER}compose: {json.dumps(files)}\n{EXTRA.get(name, '')}"
    (folder / "scenario.yaml").write_text(text)
    return validate_file(folder / "scenario.yaml", variables)


def pasted(tmp_path: Path, name: str, **variables: str) -> Validation:
    """The scenario holds the file's services (and volumes, networks, anchors) itself; of two
    files, the later one's services are pasted over a reference to the first."""
    folder = corpus_folder(tmp_path, name)
    files = FILES.get(name, ["compose.yaml"])
    text = (folder / files[-1]).read_text()
    kept = {k: v for k, v in yaml.safe_load(text).items() if k not in ("version", "name")}
    head = f"{HEADER}compose: {files[0]}\n" if len(files) > 1 else HEADER
    (folder / "scenario.yaml").write_text(head + yaml.safe_dump(kept, sort_keys=False))
    return validate_file(folder / "scenario.yaml", variables)


def errors_of(result: Validation) -> set[tuple[str, str]]:
    return {(d.rule, d.key_path) for d in result.diagnostics if d.severity is Severity.ERROR}


def errors_of_list(result: Validation) -> list[Any]:
    return [d for d in result.diagnostics if d.severity is Severity.ERROR]


def test_the_corpus_covers_every_file() -> None:
    assert {path.name for path in CORPUS.iterdir()} - {"real-world"} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_referenced_compose_file_validates_as_the_field_table_says(
    tmp_path: Path, name: str
) -> None:
    result = referenced(tmp_path, name)
    assert errors_of(result) == EXPECTED[name], [d.format_text() for d in result.diagnostics]
    for found in result.diagnostics:
        if found.rule not in ("no-criteria",):
            assert Path(found.file).name != "scenario.yaml" or name == "override", found


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - NOT_PASTED))
def test_pasted_services_validate_as_the_field_table_says(tmp_path: Path, name: str) -> None:
    variables = {"POSTGRES_PASSWORD": "billing"} if name == "jobs" else {}
    result = pasted(tmp_path, name, **variables)
    assert errors_of(result) == EXPECTED[name], [d.format_text() for d in result.diagnostics]


class TestWhereProblemsAreReported:
    def test_a_refusal_names_the_entry_and_why_in_the_compose_file(self, tmp_path: Path) -> None:
        result = referenced(tmp_path, "traefik")
        (found,) = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        assert found.file.endswith("traefik/compose.yaml")
        assert (found.line, found.column) == (11, 9)
        assert "the Docker socket gives the container the whole host" in found.message

    def test_a_field_from_an_extended_service_is_reported_where_it_was_written(
        self, tmp_path: Path
    ) -> None:
        result = referenced(tmp_path, "microservices")
        (found,) = [d for d in result.diagnostics if d.key_path.endswith("stop_signal")]
        assert found.file.endswith("microservices/common.yaml")
        assert (found.line, found.key_path) == (6, "services.python-base.stop_signal")
        assert "(api, worker)" in found.message

    def test_an_unknown_key_in_a_compose_file_suggests_the_meant_one(self, tmp_path: Path) -> None:
        folder = corpus_folder(tmp_path, "wordpress")
        text = (
            (folder / "compose.yaml")
            .read_text()
            .replace("    image: wordpress", "    imgae: wordpress")
        )
        (folder / "compose.yaml").write_text(text)
        (folder / "scenario.yaml").write_text(f"{HEADER}compose: compose.yaml\n")
        result = validate_file(folder / "scenario.yaml")
        found = [d for d in result.diagnostics if d.rule == "unknown-key"]
        assert [(d.line, d.key_path) for d in found] == [(17, "services.wordpress.imgae")]
        assert "did you mean 'image'?" in found[0].message

    def test_an_undeclared_named_volume_has_a_fix(self, tmp_path: Path) -> None:
        folder = corpus_folder(tmp_path, "wordpress")
        text = (folder / "compose.yaml").read_text().replace("  wp_data:\n", "")
        (folder / "compose.yaml").write_text(text)
        (folder / "scenario.yaml").write_text(f"{HEADER}compose: compose.yaml\n")
        (found,) = [
            d for d in validate_file(folder / "scenario.yaml").diagnostics if d.rule == "reference"
        ]
        assert found.key_path == "services.wordpress.volumes[0]"
        assert found.fix == "volumes:\n  wp_data:"
        assert json.loads(json.dumps(found.as_json()))["fix"] == "volumes:\n  wp_data:"

    def test_a_missing_compose_file_is_reported_at_the_reference(self, tmp_path: Path) -> None:
        (tmp_path / "scenario.yaml").write_text(f"{HEADER}compose: deploy/compose.yaml\n")
        (found,) = errors_of_list(validate_file(tmp_path / "scenario.yaml"))
        assert (found.rule, found.key_path, found.line) == ("missing-file", "compose", 3)


class TestMerging:
    def test_files_merge_in_order_as_compose_merges_them(self, tmp_path: Path) -> None:
        result = referenced(tmp_path, "override")
        assert result.ok
        assert result.scenario is not None
        app = result.scenario.services["app"]
        assert app.env == {"MODE": "demo", "WORKERS": "4"}
        assert app.command == ["serve", "--demo"]
        assert app.ports == ["8080:8080", "9090:9090"]
        assert [(v.type, v.target) for v in app.volumes] == [("bind", "/data")]

    def test_scenario_services_merge_over_the_compose_services(self, tmp_path: Path) -> None:
        folder = corpus_folder(tmp_path, "wordpress")
        (folder / "scenario.yaml").write_text(
            f"{HEADER}compose: compose.yaml\nservices:\n  wordpress: {{resources: {{memory: 2g}},"
            " environment: {WORDPRESS_DEBUG: '1'}}\n"
        )
        result = validate_file(folder / "scenario.yaml")
        assert result.scenario is not None
        wordpress = result.scenario.services["wordpress"]
        assert wordpress.limits.memory == 2 * 1024**3
        assert wordpress.env["WORDPRESS_DEBUG"] == "1"
        assert wordpress.env["WORDPRESS_DB_HOST"] == "db"

    def test_extends_inherits_and_the_service_wins(self, tmp_path: Path) -> None:
        result = referenced(tmp_path, "microservices")
        assert result.scenario is not None
        assert result.scenario.services["worker"].env == {
            "PYTHONUNBUFFERED": "1",
            "LOG_FORMAT": "json",
        }

    def test_compose_limits_map_onto_resources_and_resources_win(self, tmp_path: Path) -> None:
        result = referenced(tmp_path, "elastic")
        assert result.scenario is not None
        es01, kibana = result.scenario.services["es01"], result.scenario.services["kibana"]
        assert es01.limits.memory == 1024**3
        assert (kibana.limits.cpus, kibana.limits.memory) == (0.5, 768 * 1024**2)

    def test_a_port_range_is_one_port_each(self, tmp_path: Path) -> None:
        result = referenced(tmp_path, "microservices")
        assert result.scenario is not None
        assert result.scenario.services["api"].ports == ["5000:5000", "5001:5001"]


class TestProfiles:
    def test_a_service_outside_the_active_profiles_is_left_out(self, tmp_path: Path) -> None:
        result = referenced(tmp_path, "microservices")
        assert result.scenario is not None
        assert set(result.scenario.services) == {"api", "worker"}

    def test_a_step_on_a_left_out_service_says_which_profile_brings_it(
        self, tmp_path: Path
    ) -> None:
        folder = corpus_folder(tmp_path, "microservices")
        steps = "steps:\n  - {name: look, service: debug, run: 'true'}\n"
        (folder / "scenario.yaml").write_text(f"{HEADER}compose: compose.yaml\n{steps}")
        (found,) = [
            d for d in validate_file(folder / "scenario.yaml").diagnostics if d.rule == "reference"
        ]
        assert found.key_path == "steps[0].service"
        assert "profiles (debug) are not active" in found.message

    def test_an_active_profile_brings_its_service(self, tmp_path: Path) -> None:
        folder = corpus_folder(tmp_path, "microservices")
        reference = "compose: {files: [compose.yaml], profiles: [debug]}\n"
        (folder / "scenario.yaml").write_text(HEADER + reference)
        result = validate_file(folder / "scenario.yaml")
        assert result.scenario is not None
        assert set(result.scenario.services) == {"api", "worker", "debug"}


class TestInterpolation:
    def test_defaults_apply_and_var_overrides_them(self, tmp_path: Path) -> None:
        first = referenced(tmp_path / "a", "webapp")
        assert first.scenario is not None
        assert first.scenario.services["web"].image == "acme/web:1.4.2"
        second = referenced(tmp_path / "b", "webapp", TAG="2.0.0", DB_PASSWORD="s3cret")
        assert second.scenario is not None
        assert second.scenario.services["web"].image == "acme/web:2.0.0"
        assert "s3cret" in second.scenario.services["web"].env["DATABASE_URL"]

    def test_dollar_dollar_is_a_literal_dollar_as_in_compose(self, tmp_path: Path) -> None:
        result = referenced(tmp_path, "webapp")
        assert result.scenario is not None
        check = result.scenario.services["db"].healthcheck
        assert check is not None
        assert check.test == ["CMD-SHELL", "pg_isready -U ${POSTGRES_USER}"]

    def test_the_env_file_beside_the_compose_file_gives_values(self, tmp_path: Path) -> None:
        result = referenced(tmp_path, "jobs")
        assert result.scenario is not None
        assert result.scenario.services["db"].env == {"POSTGRES_PASSWORD": "billing"}

    def test_a_required_value_that_is_missing_says_its_message(self, tmp_path: Path) -> None:
        folder = corpus_folder(tmp_path, "jobs")
        (folder / ".env").unlink()
        (folder / "scenario.yaml").write_text(f"{HEADER}compose: compose.yaml\n")
        (found,) = [
            d
            for d in validate_file(folder / "scenario.yaml").diagnostics
            if d.rule == "undefined-var"
        ]
        assert found.file.endswith("jobs/compose.yaml")
        assert "set a database password" in found.message

    def test_anchors_under_x_keys_are_filled_where_they_are_used(self, tmp_path: Path) -> None:
        (tmp_path / "scenario.yaml").write_text(
            textwrap.dedent(
                """\
                apiVersion: poc-runner/v1
                name: anchors
                x-env: &env {MODE: "${mode}", LITERAL: "$$HOME"}
                x-svc: &svc
                  image: poc-runner/base:bookworm
                  command: [sh, -c, "echo $${HOSTNAME} ${mode:-slow}"]
                vars: {mode: fast}
                services:
                  app: {<<: *svc, environment: *env, x-note: ignored}
                  web: {<<: [*svc], x-note: ignored}
                steps:
                  - {name: s, service: app, run: echo $HOME, env: *env}
                """
            )
        )
        result = validate_file(tmp_path / "scenario.yaml")
        assert [d for d in result.diagnostics if d.severity is Severity.ERROR] == []
        assert result.scenario is not None
        app, web = result.scenario.services["app"], result.scenario.services["web"]
        assert app.command == web.command == ["sh", "-c", "echo ${HOSTNAME} fast"]
        assert (
            app.env == result.scenario.steps[0].environment == {"MODE": "fast", "LITERAL": "$HOME"}
        )
        assert result.scenario.steps[0].run == "echo $HOME"  # left for the shell

    def test_a_mistyped_var_is_refused_with_the_name_meant(self, tmp_path: Path) -> None:
        result = referenced(tmp_path, "webapp", TAGG="2.0.0")
        (found,) = [d for d in result.diagnostics if d.rule == "unused-var"]
        assert found.severity is Severity.ERROR
        assert "did you mean 'TAG'?" in found.message

    def test_a_valueless_environment_entry_takes_a_var_or_is_left_unset(
        self, tmp_path: Path
    ) -> None:
        unset = referenced(tmp_path / "a", "webapp")
        (warned,) = [d for d in unset.diagnostics if d.rule == "unset-env"]
        assert (warned.severity, warned.key_path) == (
            Severity.WARNING,
            "services.web.environment.SECRET_KEY",
        )
        assert unset.scenario is not None
        assert "SECRET_KEY" not in unset.scenario.services["web"].env
        given = referenced(tmp_path / "b", "webapp", SECRET_KEY="k")
        assert given.scenario is not None
        assert given.scenario.services["web"].env["SECRET_KEY"] == "k"

    def test_env_file_values_sit_under_environment(self, tmp_path: Path) -> None:
        result = referenced(tmp_path, "webapp")
        assert result.scenario is not None
        env = result.scenario.services["web"].env
        assert (env["WORKERS"], env["LOG_LEVEL"], env["REDIS_URL"]) == (
            "4",
            "info",
            "redis://cache:6379/0",
        )

    def test_configs_and_secrets_learn_their_files(self, tmp_path: Path) -> None:
        result = referenced(tmp_path, "files")
        assert result.scenario is not None
        proxy = result.scenario.services["proxy"]
        assert [(c.file, c.path_in("configs")) for c in proxy.configs] == [
            ("./conf/default.conf", "/etc/nginx/conf.d/default.conf")
        ]
        assert [s.path_in("secrets") for s in proxy.secrets] == [
            "/run/secrets/site_key",
            "/run/secrets/token.txt",
        ]


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("$A and ${A}", {"A": "x"}, "x and x"),
        ("${A:-d}|${A-d}", {"A": ""}, "d|"),
        ("${B:-${A}-z}", {"A": "x"}, "x-z"),
        ("${A:+set}|${B+set}", {"A": "x"}, "set|"),
        ("$$HOME $$(date) $5 cost $", {}, "$HOME $(date) $5 cost $"),
    ],
)
def test_compose_interpolation(text: str, variables: dict[str, str], expected: str) -> None:
    result = Interpolation()
    assert compose_text(text, (), Values(variables), result) == expected
    assert result.problems == []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("$MISSING", "has no value"),
        ("${A:?needs A}", "needs A"),
        ("${A", "closing"),
        ("${1x}", "not a reference"),
    ],
)
def test_compose_interpolation_problems(text: str, fragment: str) -> None:
    result = Interpolation()
    compose_text(text, (), Values({}), result)
    assert fragment in result.problems[0][1]


def test_env_files_read_as_compose_reads_them() -> None:
    text = textwrap.dedent(
        """\
        # settings
        export A=1
        B='lit $A'
        C="line\\nnext ${A}"
        D=plain # comment
        E
        """
    )
    parsed = parse_env(text, {"E": "given"})
    assert parsed.values == {
        "A": "1",
        "B": "lit $A",
        "C": "line\nnext 1",
        "D": "plain",
        "E": "given",
    }
    assert parse_env("F\n", {}).unset == [(1, "F")]


def test_short_volume_syntax_is_read_as_compose_reads_it() -> None:
    from poc_runner.model.volumes import short_volume

    cases: dict[str, dict[str, Any]] = {
        "data:/var/lib": {
            "type": "volume",
            "source": "data",
            "target": "/var/lib",
            "read_only": False,
        },
        "./conf:/etc/x:ro": {
            "type": "bind",
            "source": "./conf",
            "target": "/etc/x",
            "read_only": True,
        },
        "/cache": {"type": "volume", "target": "/cache", "read_only": False},
    }
    for short, long in cases.items():
        assert short_volume(short) == long


class TestInitFromCompose:
    def test_the_scenario_references_the_file_and_validates_as_written(
        self, tmp_path: Path
    ) -> None:
        from poc_runner.scaffold import scaffold_from_compose

        (scenario,) = scaffold_from_compose(CORPUS / "jobs" / "compose.yaml", tmp_path / "billing")
        result = validate_file(scenario)
        assert result.ok, [d.format_text() for d in result.diagnostics]
        assert result.scenario is not None
        assert result.scenario.compose == "deploy/compose.yaml"
        # one smoke step per service that stays up: the migration job exits, so it has none
        assert [(s.name, s.service) for s in result.scenario.steps] == [
            ("db-is-up", "db"),
            ("app-is-up", "app"),
        ]
        assert [c.for_ for c in result.scenario.acceptance.criteria] == [["Operations"]] * 2
        assert "THE JOB" in scenario.read_text()
