"""Structural rules: each has a file that breaks it once, and the error says where and why."""

from __future__ import annotations

import pytest

from tests.unit.conftest import VALID, Check, errors, only_error


def test_the_full_example_is_valid_without_warnings(check: Check) -> None:
    result = check()
    assert result.ok
    assert result.diagnostics == []


def test_unknown_key_suggests_the_closest_and_points_at_the_key(check: Check) -> None:
    found = only_error(check(("    image: postgres:16", "    imgae: postgres:16")))
    assert found.rule == "unknown-key"
    assert "did you mean 'image'?" in found.message
    assert (found.line, found.column, found.key_path) == (26, 5, "services.db.imgae")


def test_unknown_keys_are_all_reported_at_once(check: Check) -> None:
    result = check(
        ("title:", "titel:"), ("  timeout: 15m", "  timout: 15m"), ("    tmpfs:", "    tmpf:")
    )
    assert [d.key_path for d in errors(result)] == ["titel", "sandbox.timout", "services.app.tmpf"]


def test_unknown_top_level_key_case_is_suggested(check: Check) -> None:
    found = only_error(check(("apiVersion:", "apiversion:")))
    assert "did you mean 'apiVersion'?" in found.message


def test_unknown_key_inside_a_check_uses_the_check_types_fields(check: Check) -> None:
    found = only_error(check(("contains: done", "contain: done")))
    assert "did you mean 'contains'?" in found.message


@pytest.mark.parametrize(
    ("replace", "key_path", "fragment"),
    [
        (
            ("apiVersion: poc-runner/v1", "apiVersion: poc-runner/v2"),
            "apiVersion",
            "'poc-runner/v1'",
        ),
        (("name: invoice-dedupe", "name: Invoice Dedupe"), "name", "lowercase letters"),
        (("name: invoice-dedupe", "name: " + "x" * 64), "name", "63 characters"),
        (("network: isolated", "network: open"), "sandbox.network", "'isolated' or 'egress'"),
        (("timeout: 15m", "timeout: 15 minutes"), "sandbox.timeout", "like 30s, 2m"),
        (("    timeout: 2m", "    timeout: -2"), "steps[0].timeout", "zero or more"),
        (("memory: 512m", "memory: lots"), "services.app.resources.memory", "like 512m"),
        (("memory: 512m", "memory: 1m"), "services.app.resources.memory", "at least 6m"),
        (("cpus: 1.0", "cpus: 0"), "services.app.resources.cpus", "more than 0"),
        (("retries: 30", "retries: many"), "services.db.healthcheck.retries", "whole number"),
        (("pass_score: 80", "pass_score: 120"), "acceptance.pass_score", "at most 100"),
        (("weight: 3", "weight: -1"), "acceptance.criteria[0].weight", "at least 0"),
        (("must: true", "must: maybe"), "acceptance.criteria[0].must", "true or false"),
        (("  - name: detect", "  - name: Detect!"), "steps[0].name", "lowercase letters"),
        (("id: recall", "id: Recall"), "acceptance.criteria[0].id", "lowercase letters"),
        (("mount: /data/invoices.csv", "mount: data/invoices.csv"), "data[0].mount", "absolute"),
        (("mount: /data/invoices.csv", "mount: /proc/x"), "data[0].mount", "cannot be placed"),
        (("workdir: /app", "workdir: /app/../etc"), "steps[0].workdir", "'..'"),
        (("image: postgres:16", "image: Postgres 16"), "services.db.image", "image reference"),
        (
            ('command: ["sleep", "infinity"]', "command: {sleep: 1}"),
            "services.app.command",
            "expected a command",
        ),
        (
            ('command: ["sleep", "infinity"]', "command: []"),
            "services.app.command",
            "must not be empty",
        ),
        (
            ("    env: {MODE: strict}", "    env: [MODE]"),
            "steps[0].env[0]",
            "KEY=VALUE",
        ),
        (
            ("{MODE: strict}", "{MODE: }"),
            "steps[0].env.MODE",
            "host's environment",
        ),
        (
            ("{MODE: strict}", "{'BAD NAME': strict}"),
            'steps[0].env["BAD NAME"]',
            "environment variable name",
        ),
        (
            ('["CMD", "pg_isready", "-U", "postgres"]', '["pg_isready"]'),
            "services.db.healthcheck.test",
            '"CMD"',
        ),
        (
            ('["CMD", "pg_isready", "-U", "postgres"]', '["CMD-SHELL", "a", "b"]'),
            "services.db.healthcheck.test",
            "exactly one",
        ),
        (
            ("{condition: service_healthy}", "{condition: healthy}"),
            "services.app.depends_on.db.condition",
            "'service_started', 'service_healthy' or 'service_completed_successfully'",
        ),
        (('ports: ["8080"]', 'ports: ["http"]'), "services.app.ports[0]", "not a port"),
        (('ports: ["8080"]', 'ports: ["70000"]'), "services.app.ports[0]", "1-65535"),
        (
            ("secrets: [VENDOR_API_TOKEN]", "secrets: [VENDOR_API_TOKEN, 1BAD]"),
            "secrets[1]",
            "variable name",
        ),
        (("    build: app", "    build: 12\n    image: x"), "services.app.build", "does not exist"),
    ],
)
def test_field_rules(check: Check, replace: tuple[str, str], key_path: str, fragment: str) -> None:
    found = only_error(check(replace))
    assert found.key_path == key_path
    assert fragment in found.message


def test_missing_required_key_names_it_and_points_at_its_parent(check: Check) -> None:
    found = only_error(check(("    run: python3 /app/dedupe.py --out /out/flagged.json\n", "")))
    assert found.rule == "missing-key"
    assert found.message == "`run` is required here"
    assert (found.line, found.key_path) == (48, "steps[0].run")  # the step's first line


def test_service_needs_an_image_or_a_build(check: Check) -> None:
    found = only_error(check(("    image: postgres:16\n", "")))
    assert found.key_path == "services.db"
    assert "`image`, `build`, or both" in found.message


def test_wrong_shape_gets_one_error_not_one_per_alternative(check: Check) -> None:
    found = only_error(
        check(("depends_on:\n      db: {condition: service_healthy}", "depends_on: 5"))
    )
    assert found.rule == "shape"
    assert "list of services, or a mapping" in found.message


def test_a_scenario_that_is_not_a_mapping(check: Check) -> None:
    found = only_error(check(text="- just\n- a list\n"))
    assert "mapping of keys" in found.message


def test_each_list_item_error_is_placed_on_its_own_line(check: Check) -> None:
    result = check(("id: exits-clean", "id: Exits"), ("id: fast", "id: Fast"))
    assert [(d.line, d.key_path) for d in errors(result)] == [
        (69, "acceptance.criteria[1].id"),
        (78, "acceptance.criteria[4].id"),
    ]


class TestChecks:
    def test_unknown_check_type_suggests_the_closest(self, check: Check) -> None:
        found = only_error(check(("type: exit_code", "type: exitcode")))
        assert found.rule == "check-type"
        assert "did you mean 'exit_code'?" in found.message
        assert found.key_path == "acceptance.criteria[1].check"

    def test_check_without_type(self, check: Check) -> None:
        found = only_error(check(("{type: exit_code, step: detect}", "{step: detect}")))
        assert "needs a `type`" in found.message

    @pytest.mark.parametrize(
        ("replace", "fragment"),
        [
            (('op: ">=", value: "${threshold}"', 'op: "~=", value: 1'), "use '==', '!=', '<'"),
            (('op: ">=", value: "${threshold}"', 'op: ">=", value: high'), "not a number"),
            (('op: ">=", value: "${threshold}"', "op: between, value: [2]"), "two bounds"),
            (('op: ">=", value: "${threshold}"', "op: between, value: [2, 1]"), "wrong order"),
            (('op: ">=", value: "${threshold}"', 'op: matches, value: "(x"'), "regular expression"),
            (("path: $.metrics.recall", "path: metrics.recall"), "starts with $"),
            (("path: $.metrics.recall", "path: $.metrics..recall"), "position 10"),
            (
                (
                    "artifact: /out/flagged.json, path",
                    "step: detect, artifact: /out/flagged.json, path",
                ),
                "exactly one",
            ),
            (("contains: done, not_contains: Traceback", "stream: stdout"), "needs `contains`"),
            (("contains: done", "contains: done, matches: '[x'"), "regular expression"),
            (('size: {op: ">", value: 0}', 'exists: false, size: {op: ">", value: 0}'), "no file"),
            (('size: {op: ">", value: 0}', "size: {op: contains, value: 0}"), "does not apply"),
            (('op: "<", value: 2m', 'op: "<", value: soon'), "not a duration"),
            (('op: "<", value: 2m', "op: matches, value: x"), "does not apply"),
            (("pattern: 'saved ([0-9.]+)'", "pattern: 'saved [0-9.]+'"), "exactly one (group)"),
            (
                ("pattern: 'saved ([0-9.]+)'", "pattern: 'saved ([0-9.]+)', json_line: saved"),
                "exactly one",
            ),
            (("tolerance: 0.01", "tolerance: -1"), "at least 0"),
            (('query: "select count(*) from invoices"', 'query: "  "'), "must not be empty"),
            (("url: http://app:8080/health", "url: app:8080/health"), "http(s) URL"),
            (("status: 200", "status: 999"), "at most 599"),
            (
                (
                    'check: {type: command, service: app, run: "test -s /out/flagged.json"}',
                    "check: {type: command, service: app, run: []}",
                ),
                "must not be empty",
            ),
            (("baseline: {value: 0.6,", "baseline: {value: sixty,"), "not a number"),
            (("baseline: {value: 6h}", "baseline: {value: ages}"), "not a duration"),
            (("sha256", "sha256"), ""),
        ][:-1],
    )
    def test_check_rules(self, check: Check, replace: tuple[str, str], fragment: str) -> None:
        found = only_error(check(replace))
        assert fragment in found.message
        assert found.key_path.startswith("acceptance.criteria[")

    def test_sha256_must_be_hex(self, check: Check) -> None:
        found = only_error(check(('size: {op: ">", value: 0}', "sha256: xyz")))
        assert "64 lowercase hexadecimal" in found.message

    def test_for_accepts_a_single_role(self, check: Check) -> None:
        assert check(("for: [CFO]", "for: CFO")).ok


class TestUnitsAndHeadlines:
    """The criterion's optional `unit`, `headline` and `baseline.max_factor` (spec, "acceptance")."""

    def test_a_unit_headline_and_max_factor_are_read(self, check: Check) -> None:
        result = check(
            ("must: true", "must: true\n      unit: ratio\n      headline: true"),
            ("note: Excel cross-check finds about 60%}", "max_factor: 1000}"),
        )
        assert result.ok, [d.format_text() for d in result.diagnostics]
        assert result.scenario is not None
        recall = result.scenario.acceptance.criteria[0]
        assert (recall.unit, recall.headline) == ("ratio", True)
        assert recall.baseline is not None and recall.baseline.max_factor == 1000

    def test_seconds_may_be_said_on_a_duration(self, check: Check) -> None:
        assert check(("baseline: {value: 6h}", "unit: s\n      baseline: {value: 6h}")).ok

    @pytest.mark.parametrize(
        ("anchor", "unit", "says"),
        [
            ("baseline: {value: 6h}", "min", "a duration check measures seconds"),
            ("check: {type: exit_code, step: detect}", "rows", "measures an exit code"),
            ("check:\n        type: http", "ms", "a status and a latency in ms"),
        ],
    )
    def test_a_unit_that_would_contradict_the_check_is_refused(
        self, check: Check, anchor: str, unit: str, says: str
    ) -> None:
        found = only_error(check((anchor, f"unit: {unit}\n      {anchor}")))
        assert says in found.message and "leave `unit` out" in found.message
        assert found.key_path.startswith("acceptance.criteria[")

    def test_max_factor_is_at_least_one(self, check: Check) -> None:
        found = only_error(check(("baseline: {value: 6h}", "baseline: {value: 6h, max_factor: 0}")))
        assert "must be at least 1" in found.message


def test_yes_and_no_still_read_as_booleans_where_booleans_are_expected(check: Check) -> None:
    result = check(("must: true", "must: yes"), ("read_only: false", "read_only: no"))
    assert result.ok
    assert result.scenario is not None
    assert result.scenario.acceptance.criteria[0].must is True


def test_numbers_may_stand_for_text(check: Check) -> None:
    assert check(("{MODE: strict}", "{MODE: 3}"), ('ports: ["8080"]', "ports: [8080]")).ok


def test_merge_keys_let_services_share_settings(check: Check) -> None:
    shared = "    image: postgres:16\n    environment: &env {POSTGRES_PASSWORD: poc}"
    result = check(
        ("    image: postgres:16\n    environment: {POSTGRES_PASSWORD: poc}", shared),
        (
            '    command: ["sleep", "infinity"]',
            '    command: ["sleep", "infinity"]\n    environment: *env',
        ),
        ("    environment:\n      - TOKEN=${VENDOR_API_TOKEN}\n", ""),
    )
    assert result.ok, [d.format_text() for d in result.diagnostics]


def test_valid_file_has_the_anchor_lines_the_tests_rely_on() -> None:
    lines = VALID.splitlines()
    assert lines[25].strip() == "image: postgres:16"
    assert lines[49].strip() == "run: python3 /app/dedupe.py --out /out/flagged.json"
