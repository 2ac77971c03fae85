"""Whatever the file holds, validation ends in a clean verdict: never a crash, never a traceback.

The default profile is deterministic (derandomized, no example database), so CI runs the same
examples every time.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poc_runner.validation import Validation, validate_file
from tests.unit.conftest import VALID, write_scenario

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
# HYPOTHESIS_PROFILE=explore make test: a long randomized hunt, for a developer, not for CI.
settings.register_profile(
    "explore",
    database=None,
    deadline=None,
    max_examples=5000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
YAML_ALPHABET = st.sampled_from(list(":-[]{},&*!|>'\"#%@`?\t\n ~$") + list("abcxyz019.\\"))


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(tmp_path_factory.mktemp("prop"))


def assert_clean(result: Validation) -> None:
    for diagnostic in result.diagnostics:
        assert diagnostic.rule != "internal", diagnostic.format_text()
        assert diagnostic.line >= 1
        assert diagnostic.column >= 1
        assert diagnostic.message
        assert "\n" not in diagnostic.format_text()
    assert result.ok == (
        result.scenario is not None and not any(d.severity == "error" for d in result.diagnostics)
    )


def validate_text(file: Path, text: str) -> Validation:
    file.write_text(text, encoding="utf-8", errors="surrogatepass")
    return validate_file(file)


@given(st.text(YAML_ALPHABET, max_size=300))
def test_random_yaml_like_text(scenario_file: Path, text: str) -> None:
    assert_clean(validate_text(scenario_file, text))


@given(st.text(max_size=200))
def test_random_unicode_text(scenario_file: Path, text: str) -> None:
    try:
        result = validate_text(scenario_file, text)
    except UnicodeEncodeError:
        return  # lone surrogates cannot be written as UTF-8 at all
    assert_clean(result)


mutation = st.tuples(
    st.sampled_from(["delete", "insert", "duplicate-line", "swap-lines", "indent", "dedent"]),
    st.integers(min_value=0, max_value=len(VALID)),
    st.integers(min_value=1, max_value=40),
    st.text(YAML_ALPHABET, min_size=1, max_size=8),
)


def mutate(text: str, how: str, at: int, size: int, insert: str) -> str:
    lines = text.splitlines(keepends=True)
    line = at % len(lines)
    if how == "delete":
        return text[:at] + text[at + size :]
    if how == "insert":
        return text[:at] + insert + text[at:]
    if how == "duplicate-line":
        return "".join([*lines[: line + 1], lines[line], *lines[line + 1 :]])
    if how == "swap-lines":
        other = (line + size) % len(lines)
        lines[line], lines[other] = lines[other], lines[line]
        return "".join(lines)
    if how == "indent":
        lines[line] = " " * (size % 5 + 1) + lines[line]
        return "".join(lines)
    lines[line] = lines[line].lstrip(" ")
    return "".join(lines)


@given(st.lists(mutation, min_size=1, max_size=4))
def test_mutated_valid_file(
    scenario_file: Path, mutations: list[tuple[str, int, int, str]]
) -> None:
    text = VALID
    for how, at, size, insert in mutations:
        text = mutate(text, how, at, size, insert)
    assert_clean(validate_text(scenario_file, text))


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        ["${threshold}", "${nope}", "$${x}", "2m", "512m", "/abs", "../up", "app", "db"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


TREE = yaml.safe_load(VALID)
TREE_PATHS = paths(TREE)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(TREE_PATHS), st.sampled_from(["replace", "delete", "add-key"]), values
        ),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_tree(scenario_file: Path, edits: list[tuple[tuple[Any, ...], str, Any]]) -> None:
    tree = copy.deepcopy(TREE)
    for path, how, value in edits:
        parent = tree
        try:
            for part in path[:-1]:
                parent = parent[part]
            if how == "replace":
                parent[path[-1]] = value
            elif how == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[f"x{len(parent)}"] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed this path
    text = yaml.dump(tree, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)
    result = validate_text(scenario_file, text)
    assert_clean(result)


def test_tree_mutation_strategy_reaches_the_whole_file() -> None:
    assert len(TREE_PATHS) > 150
    assert {path[0] for path in TREE_PATHS} == set(TREE)
