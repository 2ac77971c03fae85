"""report.html in a real browser: it shows the verdict, reads well, prints with its evidence,
and makes no network request at all, even when the product's output is full of URLs; and so
does the page that puts two runs side by side.

Needs no Docker, but Debian's Chromium (`make test-tools` installs it), driven through the
`playwright` package with that executable (browser downloads are never needed). Requests are
observed twice: Playwright's `request` event sees every URL the page asks for, and a local HTTP
server named in the hostile values counts what actually arrived. A control page that does load
an image proves both would have noticed. Screenshots are saved under the test's tmp_path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from poc_runner.report import render_comparison, write_reports
from poc_runner.result import RunResult
from tests.unit.sample_results import errored, failing, hostile, passing, priced

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium: `make test-tools`"),
]
PNG = b"\x89PNG\r\n\x1a\n"


class Counter(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads `hits`."""


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server, its base URL and the paths it was asked for."""
    hits: list[str] = []
    handler = type("Handler", (Counter,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


class Opened:
    """A page with everything it asked for and every console error it printed."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1100, "height": 900})
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(url, wait_until="networkidle")


def report_of(result: RunResult, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    result.write(folder)
    write_reports(folder, result)
    return (folder / "report.html").resolve().as_uri()


def with_urls(base: str) -> RunResult:
    """A failing run whose product output points at the local listener in every way it could."""
    result = hostile(writable=True)
    bait = (
        f'<img src="{base}/img.png"><script src="{base}/js.js"></script>'
        f'<link rel="stylesheet" href="{base}/css.css"><iframe src="{base}/frame"></iframe>'
        f'<svg><image href="{base}/svg.png"/></svg><style>@import "{base}/import.css"</style>'
        f'<div style="background:url({base}/bg.png)">x</div>'
    )
    result.criteria[-1].evidence = bait
    result.steps[-1].error = bait
    result.job.prospect = bait
    return result


@pytest.mark.parametrize(
    ("make", "verdict"),
    [(passing, "PASS"), (hostile, "FAIL"), (priced, "FAIL"), (errored, "ERROR")],
    ids=["pass", "fail", "priced", "error"],
)
def test_the_report_shows_its_verdict_and_makes_no_request(
    browser: Browser,
    listener: tuple[str, list[str]],
    tmp_path: Path,
    make: Callable[..., RunResult],
    verdict: str,
) -> None:
    base, hits = listener
    result = with_urls(base) if make is hostile else make()
    url = report_of(result, tmp_path / "run")
    opened = Opened(browser, url)
    page = opened.page

    screenshot = tmp_path / f"report-{verdict.lower()}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(PNG)
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one

    assert opened.requests == [url]
    assert hits == []
    assert opened.errors == []  # the report's own script passed its Content-Security-Policy
    badge = page.locator(".verdict")
    assert badge.is_visible() and badge.inner_text() == verdict
    assert (
        page.locator(".score-value")
        .inner_text()
        .startswith(f"{result.score:.1f}".removesuffix(".0"))
    )
    assert page.locator(".executive").is_visible()
    page.close()


def test_hostile_markup_is_shown_as_text(
    browser: Browser, listener: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, hits = listener
    url = report_of(with_urls(base), tmp_path / "run")
    opened = Opened(browser, url)
    page = opened.page
    for summary in page.locator("summary").all():  # unfold every piece of evidence
        summary.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("img, iframe, link, image, object, embed").count() == 0
    assert page.locator("script").count() == 1  # the report's own print helper
    assert page.get_by_text(f'<img src="{base}/img.png">').first.is_visible()
    assert page.get_by_text('<script>alert("x")</script>').first.is_visible()
    assert opened.requests == [url] and hits == []
    page.close()


def test_printing_expands_the_evidence(browser: Browser, tmp_path: Path) -> None:
    opened = Opened(browser, report_of(hostile(writable=True), tmp_path / "run"))
    page = opened.page
    evidence = page.locator("details pre").first
    assert not evidence.is_visible()  # folded on screen
    page.emulate_media(media="print")
    assert evidence.is_visible()
    page.screenshot(path=str(tmp_path / "report-print.png"), full_page=True)
    page.pdf(path=str(tmp_path / "report.pdf"))
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    page.close()


def test_the_comparison_page_names_both_runs_and_makes_no_request(
    browser: Browser, listener: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, hits = listener
    later = failing()
    later.criteria[0].evidence = f'<img src="{base}/img.png">'  # bait from the product
    later.job.prospect = f'<link rel="stylesheet" href="{base}/css.css">'
    page_file = tmp_path / "compare.html"
    page_file.write_text(render_comparison(passing(), later, "html"))
    opened = Opened(browser, page_file.as_uri())
    page = opened.page
    page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
    assert (tmp_path / "compare.png").read_bytes().startswith(PNG)

    assert opened.requests == [page_file.as_uri()] and hits == []
    assert opened.errors == []
    sides = page.locator(".side")
    assert sides.count() == 2
    assert "20261123T005103Z-aaaaaa" in sides.nth(0).inner_text()
    assert "20261124T005103Z-bbbbbb" in sides.nth(1).inner_text()
    assert [sides.nth(i).locator(".verdict").inner_text() for i in range(2)] == ["PASS", "FAIL"]
    assert "safety_days 7 → 14" in page.locator(".differs").inner_text()
    page.close()


def test_the_observers_do_notice_a_request(
    browser: Browser, listener: tuple[str, list[str]], tmp_path: Path
) -> None:
    """Control: a page that does load an image is seen by both observers."""
    base, hits = listener
    control = tmp_path / "control.html"
    control.write_text(f'<!DOCTYPE html><img src="{base}/control.png">')
    opened = Opened(browser, control.as_uri())
    assert f"{base}/control.png" in opened.requests
    assert hits == ["/control.png"]
    opened.page.close()
