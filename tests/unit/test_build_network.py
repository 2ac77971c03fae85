"""Builds as isolated as the run: an isolated sandbox builds its images without a network
unless `build.network: default` says the build downloads; `host` is refused; `poc validate`
warns at the Dockerfile's own line when a build without a network has a RUN that downloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from poc_runner.model import Service
from poc_runner.validation import Validation, validate_file
from poc_runner.validation.builds import instructions
from tests.unit.conftest import FILES, VALID, only_error, write_scenario

DOWNLOADING = """\
# the product, with what it needs
FROM python:3.12-slim
ARG VERSION=1

RUN set -e \\
 # a comment inside
 && apt-get update \\
 && apt-get install -y curl
COPY app.py /app/app.py
  run pip install --no-cache-dir requests
RUN echo "no download here: curled, wgetter"
ADD https://example.invalid/tool.tgz /opt/
"""


def checked(
    tmp_path: Path, build: str, network: str = "isolated", dockerfile: str = DOWNLOADING
) -> Validation:
    text = VALID.replace("    build: app\n", f"    build: {build}\n", 1)
    text = text.replace("  network: isolated\n", f"  network: {network}\n", 1)
    files = {**FILES, "app/Dockerfile": dockerfile}
    return validate_file(write_scenario(tmp_path, text, files))


def build_warnings(result: Validation) -> list[tuple[str, int, int, str]]:
    return [
        (Path(d.file).name, d.line, d.column, d.message)
        for d in result.diagnostics
        if d.rule == "build-network"
    ]


def test_an_isolated_build_warns_at_each_downloading_run_and_refuses_an_add_of_a_url(
    tmp_path: Path,
) -> None:
    result = checked(tmp_path, "app")
    found = build_warnings(result)
    assert [(name, line, column) for name, line, column, _ in found] == [
        ("Dockerfile", 5, 1),
        ("Dockerfile", 10, 3),
        ("Dockerfile", 12, 1),
    ]
    assert "`apt-get update`" in found[0][3] and "build.network: default" in found[0][3]
    assert "`pip install`" in found[1][3]
    (first, *_) = [d for d in result.diagnostics if d.rule == "build-network"]
    assert first.key_path == "services.app.build"
    assert first.fix == "build: {context: app, network: default}"
    # The engine fetches an ADD's URL itself, from the host, whatever the build's network.
    refused = only_error(result)
    assert not result.ok and refused.line == 12 and refused.rule == "build-network"
    assert refused.message.startswith("ADD's source https://example.invalid/tool.tgz is remote")
    assert "COPY it, or give the build `build.network: default`" in refused.message


@pytest.mark.parametrize(
    ("line", "source"),
    [
        ("ADD $TOOL_URL /opt/", "$TOOL_URL is a build variable"),
        ('ADD ["http://example.invalid/a", "/opt/a"]', "http://example.invalid/a is remote"),
        ("ADD --chown=1:1 git@example.invalid:a/b.git /src", "git@example.invalid:a/b.git"),
    ],
)
def test_every_form_of_a_fetching_add_is_refused(tmp_path: Path, line: str, source: str) -> None:
    dockerfile = f"FROM poc-runner/base:bookworm\nCOPY app.py /app/app.py\n{line}\n"
    result = checked(tmp_path, "app", dockerfile=dockerfile)
    refused = only_error(result)
    assert source in refused.message and refused.line == 3


def test_an_add_from_the_build_folder_is_fine(tmp_path: Path) -> None:
    dockerfile = "FROM poc-runner/base:bookworm\nADD --chown=1:1 app.py tools.tgz /app/\n"
    result = checked(tmp_path, "app", dockerfile=dockerfile)
    assert result.ok and build_warnings(result) == []


@pytest.mark.parametrize(
    ("build", "network"),
    [("{context: app, network: default}", "isolated"), ("app", "egress")],
)
def test_a_build_with_a_network_gets_no_warning(tmp_path: Path, build: str, network: str) -> None:
    assert build_warnings(checked(tmp_path, build, network)) == []


def test_build_network_none_in_an_egress_sandbox_warns_too(tmp_path: Path) -> None:
    assert len(build_warnings(checked(tmp_path, "{context: app, network: none}", "egress"))) == 3


@pytest.mark.parametrize(
    ("network", "rule", "fragment"),
    [
        ("host", "security", "share this machine's network"),
        ("poc-net", "build", "does not exist yet"),
    ],
)
def test_build_network_host_or_a_named_network_is_refused(
    tmp_path: Path, network: str, rule: str, fragment: str
) -> None:
    found = only_error(checked(tmp_path, f"{{context: app, network: {network}}}"))
    assert (found.rule, found.key_path) == (rule, "services.app.build.network")
    assert fragment in found.message


@pytest.mark.parametrize(
    ("build", "sandbox", "network_mode"),
    [
        ({"context": "app"}, "isolated", "none"),
        ({"context": "app", "network": "default"}, "isolated", None),
        ({"context": "app", "network": "none"}, "isolated", "none"),
        ({"context": "app"}, "egress", None),
        ({"context": "app", "network": "none"}, "egress", "none"),
        ("app", "isolated", "none"),
    ],
)
def test_the_network_a_build_gets(build: object, sandbox: str, network_mode: str | None) -> None:
    service = Service.model_validate({"build": build})
    assert service.build_network(sandbox) == network_mode


def test_instructions_join_continued_lines_and_skip_comments() -> None:
    found = list(instructions("# c\nRUN a \\\n  # inside\n  b\n\n  COPY x y\nRUN c \\"))
    assert found == [(2, 1, "RUN a    b"), (6, 3, "COPY x y"), (7, 1, "RUN c")]
