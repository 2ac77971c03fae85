"""report.pdf: report.html printed by headless Chromium, the browser family the report is
written for, so the PDF is what "Print to PDF" gives (its print stylesheet unfolds the evidence
and keeps each criterion on one page).

Chromium is looked for on PATH (Debian's package `chromium`; Chrome's names work too). It
prints the local file with a fresh profile of its own, and none of the services a browser
calls home with (sync, updates, background fetches); the report's Content-Security-Policy
forbids every request anyway. Run as root, it needs its own sandbox off (`--no-sandbox`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from poc_runner.atomic import partial
from poc_runner.errors import ToolUnavailable

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DEBIAN_PACKAGE = "chromium"
TIMEOUT = 90.0  # seconds: a cold start on a busy two-core machine takes a few
FLAGS = (
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)


def chromium() -> str:
    """The Chromium to print with, or ToolUnavailable saying how to install it."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ToolUnavailable(
        f"a PDF is printed by Chromium, which is not installed here (looked for"
        f" {', '.join(NAMES)} on PATH); on Debian or Ubuntu install the package"
        f" `{DEBIAN_PACKAGE}` (apt-get install {DEBIAN_PACKAGE}), or open report.html in a"
        " browser and print it to PDF"
    )


def print_pdf(html: Path, pdf: Path) -> Path:
    """Print the page `html` to `pdf`, whole or not at all."""
    browser = chromium()
    target = partial(pdf)
    with tempfile.TemporaryDirectory(prefix="poc-chromium-") as profile:
        argv = [
            browser,
            *FLAGS,
            *(["--no-sandbox"] if os.geteuid() == 0 else []),
            f"--user-data-dir={profile}",
            f"--print-to-pdf={target}",
            html.resolve().as_uri(),
        ]
        said = _run(argv)
    if not target.is_file() or not target.read_bytes().startswith(b"%PDF"):
        target.unlink(missing_ok=True)
        raise ToolUnavailable(f"Chromium ({browser}) did not print {html} to a PDF: {said}")
    target.replace(pdf)
    return pdf


def _run(argv: list[str]) -> str:
    """Run Chromium to its end (its whole process group at the timeout); its last words."""
    with subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,  # its renderer and helper processes, ended with it
    ) as process:
        try:
            _, stderr = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return f"it did not finish within {TIMEOUT:g} s"
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"it exited with {process.returncode} and said nothing"
