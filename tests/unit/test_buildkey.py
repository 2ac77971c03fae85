"""A build is skipped only when everything the engine's cache depends on is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from poc_runner.backends.docker.buildkey import build_key

IDS = {"poc-runner/base:bookworm": "sha256:base1", "python:3.12-slim": "sha256:py"}


def key(context: Path, args: dict[str, str] | None = None, ids: dict[str, str] = IDS) -> str | None:
    return build_key(context, "Dockerfile", args or {}, ids.get)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE=poc-runner/base:bookworm\nFROM ${BASE}\nCOPY app.py /app/app.py\n"
    )
    (tmp_path / "app.py").write_text("print('hello')\n")
    return tmp_path


def test_the_same_inputs_give_the_same_key(context: Path) -> None:
    assert key(context) == key(context)
    assert key(context) is not None


@pytest.mark.parametrize(
    "change",
    [
        lambda c: (c / "app.py").write_text("print('bye')\n"),
        lambda c: (c / "new.txt").write_text("x"),
        lambda c: (c / "app.py").chmod(0o755),
        lambda c: (c / "Dockerfile").write_text((c / "Dockerfile").read_text() + "RUN true\n"),
    ],
    ids=["file content", "new file", "executable bit", "dockerfile"],
)
def test_any_change_to_the_context_changes_the_key(context: Path, change) -> None:  # type: ignore[no-untyped-def]
    before = key(context)
    change(context)
    assert key(context) != before


def test_build_args_and_the_base_images_id_are_part_of_the_key(context: Path) -> None:
    before = key(context)
    assert key(context, {"BASE": "python:3.12-slim"}) != before
    assert key(context, ids={**IDS, "poc-runner/base:bookworm": "sha256:rebuilt"}) != before


def test_no_key_when_a_base_image_is_not_local(context: Path) -> None:
    assert key(context, ids={}) is None


def test_no_key_when_the_base_depends_on_an_unset_variable(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\n")
    assert key(tmp_path) is None


@pytest.mark.parametrize(
    "line",
    [
        "ADD https://example.com/x /x",
        "ADD --chown=1:1 git@example.com:tools.git /src",  # once given a key: a stale image
        'ADD ["https://example.com/x", "/x"]',
        "ADD $SOURCE /x",  # a build variable may be a URL
    ],
)
def test_no_key_for_remote_additions_the_engine_re_checks(context: Path, line: str) -> None:
    (context / "Dockerfile").write_text(f"FROM python:3.12-slim\n{line}\n")
    assert key(context) is None


def test_an_addition_from_the_context_keeps_the_key(context: Path) -> None:
    (context / "Dockerfile").write_text("FROM python:3.12-slim\nADD app.py /app/\n")
    assert key(context) is not None


def test_later_stages_built_from_earlier_ones_need_no_image(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim AS build\nRUN true\nFROM build\nFROM scratch\nCOPY --from=build / /\n"
    )
    assert key(tmp_path) is not None
