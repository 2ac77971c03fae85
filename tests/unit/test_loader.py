"""The loader: plain data with positions, and a clean refusal of every kind of hostile YAML."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from poc_runner.loader import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_VALUES,
    LoadError,
    Mark,
    parse,
    read_text,
)


def test_builds_plain_data_with_positions_of_keys_and_values() -> None:
    document = parse("a: 1\nb:\n  - x\n  - {c: true}\n")
    assert document.data == {"a": 1, "b": ["x", {"c": True}]}
    assert document.source_map.key_at(("b",)) == Mark(2, 1)
    assert document.source_map.value_at(("b", 0)) == Mark(3, 5)
    assert document.source_map.key_at(("b", 1, "c")) == Mark(4, 6)
    assert document.source_map.value_at(("b", 1, "c")) == Mark(4, 9)


def test_missing_path_falls_back_to_nearest_enclosing_value() -> None:
    document = parse("job:\n  statement: x\n")
    assert document.source_map.value_at(("job", "stakeholders", 3)) == Mark(2, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no", "no"),  # YAML 1.2 core: the Norway problem does not happen
        ("on", "on"),
        ("yes", "yes"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("", None),
        ("12", 12),
        ("0x1f", 31),
        ("0o17", 15),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("-.inf", float("-inf")),
        ("'12'", "12"),
        ("!!str 12", "12"),
        ("!!int '7'", 7),
        ("2024-01-01", "2024-01-01"),
        ("0.95", 0.95),
    ],
)
def test_scalars_follow_the_yaml_1_2_core_schema(text: str, expected: object) -> None:
    assert parse(f"v: {text}\n").data == {"v": expected}


def test_merge_keys_fill_in_but_written_keys_win() -> None:
    document = parse("base: &b {image: x, user: a}\nsvc:\n  <<: *b\n  user: b\n")
    assert document.data["svc"] == {"image": "x", "user": "b"}
    assert document.source_map.value_at(("svc", "image")) == Mark(3, 7)  # at the `*b`


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    document = parse("a: 1\nb: 2\na: 3\n")
    (problem,) = document.problems
    assert problem.mark == Mark(3, 1)
    assert "duplicate key 'a'" in problem.message
    assert "line 1" in problem.message


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    assert parse("'<<': 1\n").data == {"<<": 1}


def refused(text: str) -> LoadError:
    with pytest.raises(LoadError) as caught:
        parse(text)
    return caught.value


def test_billion_laughs_is_refused_without_expanding_it() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        aliases = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    error = refused("\n".join(lines) + "\n")
    assert error.rule == "size"
    assert f"{MAX_VALUES:,}" in error.message


def test_many_plain_values_are_refused_as_too_large() -> None:
    assert refused("v: [" + "1," * MAX_VALUES + "1]\n").rule == "size"


def test_recursive_alias_is_refused() -> None:
    assert "contains it" in refused("a: &x [1, *x]\n").message


def test_undefined_alias_is_refused() -> None:
    error = refused("a: 1\nb: *nope\n")
    assert error.mark == Mark(2, 4)
    assert "*nope" in error.message


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['echo hi']\n",
        "a: !!python/name:os.system\n",
        "a: !custom x\n",
        "a: !!binary aGk=\n",
        "a: !!set {x, y}\n",
        "a: !!omap [x: 1]\n",
        "a: !!timestamp 2024-01-01\n",
    ],
)
def test_object_and_custom_tags_are_refused(text: str) -> None:
    error = refused(text)
    assert error.rule == "yaml-tag"
    assert "not allowed" in error.message


def test_tab_indentation_gets_a_plain_explanation() -> None:
    error = refused("services:\n\tapp: {}\n")
    assert error.mark == Mark(2, 1)
    assert "tab" in error.message


def test_reserved_character_is_not_called_a_tab() -> None:
    assert "'@' cannot start a value" in refused("a: @x\n").message


def test_unclosed_bracket_names_where_it_was_opened() -> None:
    error = refused("services: {app: {image: x\n")
    assert "opened at line 1" in error.message


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    error = refused("a: " + "[" * (MAX_DEPTH + 10) + "]" * (MAX_DEPTH + 10) + "\n")
    assert error.rule == "size"


def test_extremely_deep_nesting_is_refused_without_recursion() -> None:
    assert refused("[" * 100_000).rule == "size"


def test_second_document_is_refused() -> None:
    assert refused("a: 1\n---\nb: 2\n").mark == Mark(2, 1)


def test_empty_file_is_refused() -> None:
    assert "empty" in refused("# only a comment\n").message


def test_control_character_is_placed_on_its_line() -> None:
    error = refused("a: 1\nb: x\x01y\n")
    assert error.mark.line == 2


def test_non_scalar_keys_are_refused() -> None:
    assert "plain text" in refused("? [a, b]\n: 1\n").message


def test_huge_integer_is_refused_not_crashed_on() -> None:
    assert "not a valid int" in refused("a: !!int " + "9" * 5000 + "\n").message


def test_read_text_refuses_files_over_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "scenario.yaml"
    big.write_text("#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(LoadError, match="larger than 1024 KiB"):
        read_text(big)


def test_read_text_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    with pytest.raises(LoadError, match="not a regular file"):
        read_text(fifo)


def test_read_text_refuses_non_utf8_and_points_at_the_byte(tmp_path: Path) -> None:
    bad = tmp_path / "scenario.yaml"
    bad.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(LoadError) as caught:
        read_text(bad)
    assert caught.value.mark == Mark(2, 4)


def test_read_text_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    file = tmp_path / "scenario.yaml"
    file.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert parse(read_text(file)).data == {"a": 1}


def test_brackets_in_quotes_and_comments_do_not_count_as_nesting() -> None:
    """On a parser error the loader counts the nesting itself; quoted text and comments hold
    no levels, so a broken file full of them gets the parser's own message."""
    error = refused("a: '" + "[" * 2000 + "'  # " + "{" * 2000 + "\nb: ]\n")
    assert error.rule == "yaml"
