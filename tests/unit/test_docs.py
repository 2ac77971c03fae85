"""The documents a user reads stay true: the scenario format's examples are what `poc validate`
accepts, every check type is documented, and every link between the repository's documents
lands on a file and a heading that exist (none leaves the repository)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import TypeAdapter

from poc_runner.model.checks import CHECK_TYPES, Check
from poc_runner.validation import validate_file

ROOT = Path(__file__).resolve().parents[2]
FORMAT = ROOT / "docs" / "scenario-format.md"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def section(text: str, heading: str) -> str:
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(document: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", document.read_text(), flags=re.S)
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def test_the_whole_scenario_validates_as_written(tmp_path: Path) -> None:
    text = section(FORMAT.read_text(), "A whole scenario")
    (tmp_path / "scenario.yaml").write_text(text.split("```yaml\n", 1)[1].split("```", 1)[0])
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM poc-runner/base:bookworm\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "invoices.csv").write_text("invoice,amount\n")
    result = validate_file(tmp_path / "scenario.yaml")
    assert result.ok and not result.diagnostics, result.diagnostics


def test_every_check_type_has_a_row_and_an_example_that_parses() -> None:
    text = section(FORMAT.read_text(), "Check types")
    examples = [
        yaml.safe_load(line)["check"] for line in text.splitlines() if line.startswith("check: {")
    ]
    documented = {example["type"] for example in examples}
    for kind in CHECK_TYPES:
        assert f"\n| `{kind}` |" in text, f"no row for {kind}"
        assert kind in documented, f"no example of {kind}"
    for example in examples:
        if example["type"] in CHECK_TYPES:  # the others parse once poc-runner knows them
            TypeAdapter(Check).validate_python(example)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_link_lands_on_a_file_and_heading_of_the_repository(document: Path) -> None:
    for target in _LINK.findall(document.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # mailto:, http(s): none of the repository's own
        path, _, anchor = target.partition("#")
        landing = (document.parent / path).resolve() if path else document
        assert landing.is_relative_to(ROOT), (
            f"{document.name} links out of the repository: {target}"
        )
        assert landing.exists(), f"{document.name} links to a missing {target}"
        if anchor:
            assert anchor in anchors(landing), f"{document.name}: no heading #{anchor} in {path}"


@pytest.mark.parametrize("template", ["scenario/scenario.yaml", "from-compose.yaml"])
def test_poc_init_s_comments_name_the_format_s_reference(template: str) -> None:
    text = (ROOT / "poc_runner" / "templates" / template).read_text()
    named = re.search(r"^# .*?(docs/[\w-]+\.md)", text, re.M)
    assert named is not None and (ROOT / named[1]).is_file()
