"""The pricing API of scenarios/price-lookup, called from Python: `poc_sandbox` starts the
scenario's services once for the session (as `poc up` does), with the declared port 8080
published on 127.0.0.1, and removes them when the session ends, also on Ctrl-C."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

import poc_runner

SCENARIO = "scenarios/price-lookup"  # from the rootdir, where pyproject.toml is

PocSandbox = Callable[..., poc_runner.LiveSandbox]


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def test_an_item_on_the_list_is_quoted_at_its_price(poc_sandbox: PocSandbox) -> None:
    api = poc_sandbox(SCENARIO).url("api", 8080)
    assert get(f"{api}/prices/B-200") == (200, {"sku": "B-200", "price": 48.0, "currency": "EUR"})


def test_an_item_not_on_the_list_is_not_guessed(poc_sandbox: PocSandbox) -> None:
    api = poc_sandbox(SCENARIO).url("api", 8080)
    status, body = get(f"{api}/prices/Z-999")
    assert status == 404 and "price" not in body


def test_the_price_list_is_read_only_in_the_sandbox(poc_sandbox: PocSandbox) -> None:
    written = poc_sandbox(SCENARIO).exec("api", "echo 0 >> /data/prices.csv")
    assert written.exit_code != 0
    assert "Read-only file system" in written.stderr
