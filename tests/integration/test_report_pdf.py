"""`poc report RUN_DIR --format pdf`: report.html printed by Debian's Chromium. The PDF is a
PDF, and its first page, turned into an image by poppler's pdftoppm, is a rendered page that
shows the verdict and the executive summary (poppler's pdftotext reads the same page).

Needs no Docker: Chromium (`make test-tools`) and poppler-utils. The page images are kept under
the test's tmp_path for a person to look at.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from poc_runner.result import RunResult
from tests.unit.sample_results import errored, passing, priced

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
