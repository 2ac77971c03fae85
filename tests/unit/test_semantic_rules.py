"""Rules that need the whole scenario: references, dependencies, paths, variables, acceptance."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from poc_runner.diagnostics import Severity
from poc_runner.validation import validate_file
from tests.unit.conftest import VALID, Check, errors, only_error, write_scenario


class TestReferences:
    @pytest.mark.parametrize(
        ("replace", "key_path", "fragment"),
        [
            (
                ("  - name: load\n    service: app", "  - name: load\n    service: ap"),
                "steps[1].service",
                "did you mean 'app'?",
            ),
            (
                ("    services: [app]", "    services: [web]"),
                "data[0].services[0]",
                "no service named 'web'",
            ),
            (
                ("{type: exit_code, step: detect}", "{type: exit_code, step: detct}"),
                "acceptance.criteria[1].check.step",
                "did you mean 'detect'?",
            ),
            (
                ("{type: sql, service: db,", "{type: sql, service: dbb,"),
                "acceptance.criteria[7].check.service",
                "no service named 'dbb'",
            ),
            (
                ("url: http://app:8080/health", "url: http://api:8080/health"),
                "acceptance.criteria[8].check.url",
                "no service named 'api'",
            ),
            (
                ("{type: command, service: app,", "{type: command, service: worker,"),
                "acceptance.criteria[9].check.service",
                "services here: db, app",
            ),
            (
                ("for: [Controller]\n      weight: 3", "for: [Controler]\n      weight: 3"),
                "acceptance.criteria[0].for[0]",
                "did you mean 'Controller'?",
            ),
            (
                ("artifact: /out/flagged.json, path", "artifact: /out/missing.json, path"),
                "acceptance.criteria[0].check.artifact",
                "no step collects",
            ),
        ],
    )
    def test_every_reference_must_resolve(
        self, check: Check, replace: tuple[str, str], key_path: str, fragment: str
    ) -> None:
        found = only_error(check(replace))
        assert found.rule == "reference"
        assert found.key_path == key_path
        assert fragment in found.message

    def test_an_artifact_inside_a_collected_folder_resolves(self, check: Check) -> None:
        assert check(("artifact: /out/tables/flagged.csv", "artifact: /out/tables/sub/x.csv")).ok

    def test_a_folder_is_not_a_prefix_match_on_text(self, check: Check) -> None:
        found = only_error(
            check(("artifact: /out/tables/flagged.csv", "artifact: /out/tablesx.csv"))
        )
        assert found.rule == "reference"

    @pytest.mark.parametrize(
        ("replace", "key_path"),
        [
            (("  - name: load", "  - name: detect"), "steps[1].name"),
            (("id: fast", "id: recall"), "acceptance.criteria[4].id"),
            (("{role: CFO,", "{role: Controller,"), "job.stakeholders[2].role"),
            (
                ("secrets: [VENDOR_API_TOKEN]", "secrets: [VENDOR_API_TOKEN, VENDOR_API_TOKEN]"),
                "secrets[1]",
            ),
            (
                ("secrets: [VENDOR_API_TOKEN]", "secrets: [VENDOR_API_TOKEN, threshold]"),
                "secrets[1]",
            ),
        ],
    )
    def test_names_are_unique(self, check: Check, replace: tuple[str, str], key_path: str) -> None:
        found = [d for d in errors(check(replace)) if d.rule == "duplicate-name"]
        assert [d.key_path for d in found] == [key_path]

    def test_two_data_items_cannot_land_on_the_same_path(self, check: Check) -> None:
        second = "  - name: more\n    path: data/invoices.csv\n    mount: /data\n"
        found = only_error(check(("services:\n  db:", second + "services:\n  db:")))
        assert found.key_path == "data[1].mount"
        assert "overlaps '/data/invoices.csv'" in found.message


class TestDependencies:
    def test_unknown_dependency(self, check: Check) -> None:
        found = only_error(check(("      db: {condition: service_healthy}", "      dbx: {}")))
        assert (found.key_path, found.line) == ("services.app.depends_on.dbx", 40)

    def test_depending_on_itself(self, check: Check) -> None:
        found = only_error(check(("      db: {condition: service_healthy}", "      app: {}")))
        assert "depends on itself" in found.message

    def test_healthy_condition_needs_a_healthcheck(self, check: Check) -> None:
        result = check(("    healthcheck:\n      test:", "    healthchek:\n      test:"))
        assert errors(result)[0].rule == "unknown-key"
        result = check(
            ('      test: ["CMD", "pg_isready", "-U", "postgres"]', '      test: ["NONE"]')
        )
        found = only_error(result)
        assert found.rule == "dependency"
        assert "no healthcheck" in found.message

    def test_a_cycle_is_reported_once_with_its_path(self, check: Check) -> None:
        result = check(
            (
                "  db:\n    image: postgres:16",
                "  db:\n    depends_on: [app]\n    image: postgres:16",
            )
        )
        found = only_error(result)
        assert found.rule == "dependency-cycle"
        assert "app -> db -> app" in found.message or "db -> app -> db" in found.message

    def test_list_form_dependencies_are_checked_too(self, check: Check) -> None:
        found = only_error(
            check(
                ("depends_on:\n      db: {condition: service_healthy}", "depends_on: [db, cache]")
            )
        )
        assert found.key_path == "services.app.depends_on[1]"


class TestScenarioFolderPaths:
    def test_missing_data_file(self, tmp_path: Path) -> None:
        files = {"app/Dockerfile": "FROM x\n", "expected/flagged.csv": "id\n"}
        found = only_error(validate_file(write_scenario(tmp_path, files=files)))
        assert (found.rule, found.key_path, found.line) == ("missing-file", "data[0].path", 21)

    @pytest.mark.parametrize(
        "path", ["/etc/passwd", "../outside.csv", "data/../../outside.csv", "C:\\\\data.csv"]
    )
    def test_paths_that_leave_the_folder_are_refused_before_touching_the_disk(
        self, check: Check, path: str
    ) -> None:
        found = only_error(check(("path: data/invoices.csv", f'path: "{path}"')))
        assert (found.rule, found.key_path) == ("path-escape", "data[0].path")

    def test_dotdot_that_stays_inside_is_fine(self, check: Check) -> None:
        assert check(("path: data/invoices.csv", "path: data/../data/invoices.csv")).ok

    def test_symlink_pointing_outside_is_refused(self, tmp_path: Path) -> None:
        scenario = write_scenario(tmp_path / "s")
        (tmp_path / "s/data/invoices.csv").unlink()
        (tmp_path / "secret.csv").write_text("x\n")
        (tmp_path / "s/data/invoices.csv").symlink_to(tmp_path / "secret.csv")
        found = only_error(validate_file(scenario))
        assert found.rule == "path-escape"
        assert "leads outside" in found.message

    def test_symlink_inside_a_data_folder_pointing_outside_is_refused(self, tmp_path: Path) -> None:
        text = VALID.replace("path: data/invoices.csv", "path: data")
        text = text.replace("mount: /data/invoices.csv", "mount: /data")
        scenario = write_scenario(tmp_path, text)
        (tmp_path / "data/nested").mkdir()
        (tmp_path / "data/nested/shadow").symlink_to("/etc/shadow")
        found = only_error(validate_file(scenario))
        assert "'data/nested/shadow', a link that leads outside" in found.message

    def test_a_data_file_that_is_a_link_is_refused_even_inside(self, tmp_path: Path) -> None:
        """Data is copied from regular files only (never through a link, which could be
        swapped after validation): a link fails here, naming what to do, not the sandbox."""
        write_scenario(tmp_path)
        (tmp_path / "data/alias.csv").symlink_to("invoices.csv")
        text = VALID.replace("path: data/invoices.csv", "path: data/alias.csv")
        found = only_error(validate_file(write_scenario(tmp_path, text, files={})))
        assert (found.rule, found.key_path) == ("link", "data[0].path")
        assert "'data/alias.csv' is a link (to 'data/invoices.csv')" in found.message
        assert "put a copy of what it points to in its place" in found.message

    def test_a_link_inside_a_data_folder_pointing_inside_it_is_refused(
        self, tmp_path: Path
    ) -> None:
        text = VALID.replace("path: data/invoices.csv", "path: data")
        text = text.replace("mount: /data/invoices.csv", "mount: /data")
        scenario = write_scenario(tmp_path, text)
        (tmp_path / "data/latest.csv").symlink_to("invoices.csv")
        found = only_error(validate_file(scenario))
        assert (found.rule, found.key_path) == ("link", "data[0].path")
        assert "'data/latest.csv', a link (to 'data/invoices.csv')" in found.message

    def test_a_data_folder_reached_through_a_linked_parent_is_fine(self, tmp_path: Path) -> None:
        """Only what is copied must not be a link; the folder it sits in may be one."""
        write_scenario(tmp_path)
        (tmp_path / "exports").symlink_to("data", target_is_directory=True)
        text = VALID.replace("path: data/invoices.csv", "path: exports/invoices.csv")
        assert validate_file(write_scenario(tmp_path, text, files={})).ok

    def test_a_link_inside_a_build_folder_pointing_inside_is_fine(self, tmp_path: Path) -> None:
        """The engine gets a build folder as it is, links kept as links."""
        scenario = write_scenario(tmp_path)
        (tmp_path / "app/Dockerfile.link").symlink_to("Dockerfile")
        assert validate_file(scenario).ok

    def test_fifo_in_a_build_folder_is_refused(self, tmp_path: Path) -> None:
        scenario = write_scenario(tmp_path)
        os.mkfifo(tmp_path / "app/pipe")
        found = only_error(validate_file(scenario))
        assert (found.key_path, found.rule) == ("services.app.build", "path-escape")
        assert "not a regular file" in found.message

    def test_build_folder_needs_its_dockerfile(self, tmp_path: Path) -> None:
        files = {"data/invoices.csv": "x\n", "app/README": "x\n", "expected/flagged.csv": "id\n"}
        found = only_error(validate_file(write_scenario(tmp_path, files=files)))
        assert found.key_path == "services.app.build"
        assert "'app/Dockerfile' does not exist" in found.message

    def test_build_mapping_with_custom_dockerfile(self, check: Check) -> None:
        result = check(
            ("    build: app", "    build: {context: app, dockerfile: Other.Dockerfile}")
        )
        found = only_error(result)
        assert found.key_path == "services.app.build.dockerfile"

    def test_data_path_that_is_a_file_where_a_folder_is_needed(self, check: Check) -> None:
        found = only_error(check(("    build: app", "    build: data/invoices.csv")))
        assert "is not a folder" in found.message

    def test_csv_expected_file_must_exist(self, check: Check) -> None:
        found = only_error(check(("expected: expected/flagged.csv", "expected: expected/nope.csv")))
        assert found.key_path == "acceptance.criteria[6].check.expected"


class TestVariables:
    def test_undefined_variable_is_an_error_with_the_ways_to_define_it(self, check: Check) -> None:
        found = only_error(check(("{MODE: strict}", "{MODE: '${mode}'}")))
        assert found.rule == "undefined-var"
        assert found.key_path == "steps[0].env.MODE"
        assert "--var mode=" in found.message

    def test_var_override_from_the_command_line(self, check: Check) -> None:
        result = check(("{MODE: strict}", "{MODE: '${mode}'}"), mode="fast")
        assert result.ok
        assert result.scenario is not None
        assert result.scenario.steps[0].environment["MODE"] == "fast"

    def test_override_replaces_the_file_value_and_is_validated_in_place(self, check: Check) -> None:
        found = only_error(check(threshold="high"))
        assert found.key_path == "acceptance.criteria[0].check.value"
        assert "'high' is not a number" in found.message

    def test_interpolated_durations_are_parsed(self, check: Check) -> None:
        result = check(
            ('vars: {threshold: "0.95"}', 'vars: {threshold: "0.95", t: 90s}'),
            ("timeout: 15m", "timeout: ${t}"),
        )
        assert result.ok
        assert result.scenario is not None
        assert result.scenario.sandbox.timeout == 90

    def test_secrets_stay_unresolved_while_validating(self, check: Check) -> None:
        result = check()
        assert result.scenario is not None
        assert result.scenario.services["app"].env == {"TOKEN": "${VENDOR_API_TOKEN}"}

    def test_escaped_reference_is_literal(self, check: Check) -> None:
        result = check(("{MODE: strict}", "{MODE: '$${HOME}'}"))
        assert result.ok
        assert result.scenario is not None
        assert result.scenario.steps[0].environment["MODE"] == "${HOME}"

    @pytest.mark.parametrize(
        ("text", "fragment"), [("${mode", "closing"), ("${a b}", "not a variable name")]
    )
    def test_malformed_references(self, check: Check, text: str, fragment: str) -> None:
        assert fragment in only_error(check(("{MODE: strict}", f"{{MODE: '{text}'}}"))).message

    def test_references_reached_through_aliases_and_merges_are_filled(self, check: Check) -> None:
        result = check(
            ("{MODE: strict}", "&env {MODE: '${threshold}', LITERAL: '$${HOME}'}"),
            (
                '    run: ["python3", "/app/load.py"]',
                '    run: ["python3", "/app/load.py"]\n    env: *env',
            ),
            ("    workdir: /app", "    workdir: &dir /app/${threshold}"),
            ("    service: app\n    run: [", "    service: app\n    workdir: *dir\n    run: ["),
        )
        assert result.ok, [d.format_text() for d in result.diagnostics]
        assert result.scenario is not None
        detect, load = result.scenario.steps
        assert detect.environment == load.environment == {"MODE": "0.95", "LITERAL": "${HOME}"}
        assert detect.workdir == load.workdir == "/app/0.95"

    def test_merged_text_is_filled_where_it_lands(self, check: Check) -> None:
        result = check(
            (
                "    environment: {POSTGRES_PASSWORD: poc}",
                "    environment: &pg {POSTGRES_PASSWORD: '${pw}'}",
            ),
            (
                "    environment:\n      - TOKEN=${VENDOR_API_TOKEN}\n",
                "    environment:\n      <<: *pg\n",
            ),
            pw="s3cret",
        )
        assert result.ok, [d.format_text() for d in result.diagnostics]
        assert result.scenario is not None
        assert result.scenario.services["app"].env == {"POSTGRES_PASSWORD": "s3cret"}

    def test_a_var_used_only_through_an_alias_of_vars_is_an_error_where_used(
        self, check: Check
    ) -> None:
        result = check(
            ('vars: {threshold: "0.95"}', 'vars: {threshold: "0.95", t: &t "${nope}"}'),
            ("    workdir: /app", "    workdir: *t"),
        )
        found = only_error(result)
        assert (found.rule, found.key_path) == ("undefined-var", "steps[0].workdir")

    def test_duplicate_key_over_a_reference_does_not_break_filling(self, check: Check) -> None:
        result = check(("    env: {MODE: strict}", "    env: {MODE: '${threshold}'}\n    env: 1"))
        assert [d.rule for d in errors(result)] == ["duplicate-key", "shape"]

    def test_unused_var_is_a_warning(self, check: Check) -> None:
        result = check(('vars: {threshold: "0.95"}', 'vars: {threshold: "0.95", spare: 1}'))
        assert result.ok
        (warning,) = result.diagnostics
        assert (warning.severity, warning.key_path) == (Severity.WARNING, "vars.spare")


class TestAcceptance:
    def test_stakeholder_without_a_criterion_is_a_warning(self, check: Check) -> None:
        result = check(
            ("for: [CFO]\n      check: {type: file", "for: [Controller]\n      check: {type: file"),
            (
                "for: [CFO]\n      check: {type: metric",
                "for: [Controller]\n      check: {type: metric",
            ),
        )
        assert result.ok
        (warning,) = result.diagnostics
        assert warning.key_path == "job.stakeholders[2].role"
        assert "'CFO'" in warning.message

    def test_criterion_for_nobody_is_a_warning(self, check: Check) -> None:
        result = check(
            (
                "      for: [AP clerk]\n      check: {type: exit_code",
                "      check: {type: exit_code",
            )
        )
        assert result.ok
        assert [d.rule for d in result.diagnostics] == ["stakeholder"]

    def test_no_criteria_is_a_warning(self, check: Check) -> None:
        text = VALID[: VALID.index("acceptance:")]
        result = check(text=text.replace('vars: {threshold: "0.95"}\n', ""))
        assert result.ok
        assert [d.rule for d in result.diagnostics] == ["no-criteria"]

    def test_all_weights_zero_is_an_error(self, check: Check) -> None:
        text = VALID.replace("      weight: 3\n", "")
        text = text.replace("    - id: ", "    - weight: 0\n      id: ")
        found = only_error(check(text=text))
        assert found.rule == "score"


class TestOneRunReportsEverything:
    """Structural errors do not hide reference errors elsewhere, nor cause false ones."""

    def test_structural_and_reference_errors_come_together(self, check: Check) -> None:
        result = check(
            ("title:", "titel:"),
            ("  - name: load\n    service: app", "  - name: load\n    service: ap"),
        )
        assert [(d.rule, d.key_path) for d in errors(result)] == [
            ("unknown-key", "titel"),
            ("reference", "steps[1].service"),
        ]

    def test_lines_stay_right_when_an_earlier_list_item_is_broken(self, check: Check) -> None:
        result = check(
            ("    timeout: 2m", "    timeout: soon"),
            ("  - name: load\n    service: app", "  - name: load\n    service: ap"),
        )
        assert [(d.line, d.key_path) for d in errors(result)] == [
            (51, "steps[0].timeout"),
            (57, "steps[1].service"),
        ]

    def test_a_broken_step_is_not_also_reported_missing(self, check: Check) -> None:
        found = only_error(check(("    timeout: 2m", "    timeout: soon")))
        assert found.key_path == "steps[0].timeout"

    def test_a_broken_service_is_not_also_reported_missing(self, check: Check) -> None:
        found = only_error(check(("    read_only: false", "    privileged: true")))
        assert found.key_path == "services.app.privileged"

    def test_a_reference_near_a_broken_name_is_a_consequence(self, check: Check) -> None:
        found = only_error(check(("  - name: detect", "  - name: Detect!")))
        assert found.key_path == "steps[0].name"

    def test_a_reference_far_from_any_name_is_still_reported(self, check: Check) -> None:
        result = check(
            ("  - name: detect", "  - name: Detect!"),
            ("{type: sql, service: db,", "{type: sql, service: warehouse,"),
        )
        assert [d.key_path for d in errors(result)] == [
            "steps[0].name",
            "acceptance.criteria[7].check.service",
        ]

    def test_a_broken_section_excuses_every_reference_into_it(self, check: Check) -> None:
        text = (
            VALID[: VALID.index("services:\n")]
            + "services: [db, app]\n"
            + VALID[VALID.index("steps:\n") :]
        )
        found = only_error(check(text=text))
        assert (found.rule, found.key_path) == ("type", "services")

    def test_a_broken_job_keeps_its_stakeholder_roles(self, check: Check) -> None:
        found = only_error(check(("  current_solution:", "  current_solutions:")))
        assert found.key_path == "job.current_solutions"

    def test_acceptance_warnings_wait_for_a_whole_acceptance_section(self, check: Check) -> None:
        result = check(
            (
                "check: {type: exit_code, step: detect}",
                "check: {type: exit_code, step: detect, value: x}",
            )
        )
        assert [d.severity for d in result.diagnostics] == [Severity.ERROR]
