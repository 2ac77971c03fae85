"""`poc report RUN_DIR --format pdf`: report.html printed by Debian's Chromium. The PDF is a
PDF, and its first page, turned into an image by poppler's pdftoppm, is a rendered page that
shows the verdict and the executive summary (poppler's pdftotext reads the same page).

Needs no Docker: Chromium (`make test-tools`) and poppler-utils. The page images are kept under
the test's tmp_path for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from poc_runner.report.executive import executive_summary
from poc_runner.result import RunResult
from tests.unit.sample_results import errored, gapped, passing, priced

from .conftest import poc

PNG = b"\x89PNG\r\n\x1a\n"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium"),
    pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils"),
]


def first_page(pdf: Path) -> tuple[Path, str]:
    """The PDF's first page as a PNG, and its text."""
    stem = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", pdf, stem], check=True)
    (image,) = pdf.parent.glob(f"{stem.name}-*1.png")
    text = subprocess.run(
        ["pdftotext", "-l", "1", pdf, "-"], capture_output=True, text=True, check=True
    ).stdout
    return image, " ".join(text.split())


@pytest.mark.parametrize(
    ("make", "verdict", "says"),
    [
        (priced, "FAIL", "5,686.35 EUR where ≤ 5,000 EUR was needed; 8,000 EUR today"),
        (passing, "PASS", "0.5 s, against 6 h today"),
        (errored, "ERROR", "No verdict: the test environment failed"),
    ],
    ids=["fail", "pass", "error"],
)
def test_the_pdfs_first_page_shows_the_verdict_and_the_executive_summary(
    tmp_path: Path, make: Callable[[], RunResult], verdict: str, says: str
) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    make().write(run_dir)
    printed = poc("report", str(run_dir), "--format", "pdf")
    assert printed.returncode == 0, printed.stderr
    pdf = run_dir / "report.pdf"
    assert f"wrote {pdf}" in printed.stderr
    assert pdf.read_bytes().startswith(b"%PDF")

    image, text = first_page(pdf)
    assert image.read_bytes().startswith(PNG)
    assert image.stat().st_size > 20_000  # a rendered page, not a blank one
    assert verdict in text.split()
    assert "EXECUTIVE SUMMARY" in text and says in text
    assert not list(run_dir.glob(".*partial"))


def test_out_names_the_pdf(tmp_path: Path) -> None:
    priced().write(tmp_path)
    target = tmp_path / "for-the-cfo.pdf"
    printed = poc("report", str(tmp_path / "result.json"), "--format", "pdf", "--out", str(target))
    assert printed.returncode == 0, printed.stderr
    assert target.read_bytes().startswith(b"%PDF")


def pages(pdf: Path) -> list[str]:
    """Each page's words, as poppler's pdftotext reads them."""
    count = int(
        re.search(
            r"Pages:\s+(\d+)",
            subprocess.run(["pdfinfo", pdf], capture_output=True, text=True).stdout,
        ).group(1)  # type: ignore[union-attr]
    )
    return [
        " ".join(
            subprocess.run(
                ["pdftotext", "-f", str(n), "-l", str(n), pdf, "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
        )
        for n in range(1, count + 1)
    ]


def squeezed(text: str) -> str:
    """Text without spaces and hyphens: a line may break anywhere in a rendered page."""
    return re.sub(r"[\s\-]", "", text)


def test_the_pdf_reads_as_a_document(tmp_path: Path) -> None:
    """Page 1 is the whole executive summary (verdict, score, the summary with what failed and
    the headline figures, the job), then the gap list, and no half-empty page; no card runs
    across a page break (its title and its evidence are on one page)."""
    result = gapped()
    result.write(tmp_path)
    printed = poc("report", str(tmp_path), "--format", "pdf")
    assert printed.returncode == 0, printed.stderr
    text = pages(tmp_path / "report.pdf")
    first = text[0]
    assert squeezed(executive_summary(result)) in squeezed(first)  # whole, not cut in two
    assert "FAIL" in first.split() and "40 / 100" in first
    assert " ".join(result.job.statement.split()) in first  # type: ignore[union-attr]
    assert "Gap list" in first and "deal-breaker" in first
    assert len(first.split()) > 150  # a full page, not a half-empty one
    for criterion in result.criteria:
        title = criterion.title or criterion.id
        must = " MUST-HAVE" if criterion.must else ""  # the card's badge, between the two
        heading = f"{title}{must} {criterion.id} ·"
        shown = [i for i, page in enumerate(text) if heading in page]
        assert shown, title
        card = text[shown[0]]
        after = card[card.index(heading) :]
        assert "Evidence" in after or "Its evidence is under" in after, title
