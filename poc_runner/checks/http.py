"""`http` checks (spec, "Check types"): a request to a scenario service, sent from inside the
sandbox network, never from the host.

The sandbox publishes no ports during a run and its network is isolated, so the host could not
reach the service anyway; a request from inside also measures what a neighbouring service
would see. It runs in the sandbox's probe container (python3, on the run's network) as a small
urllib script that prints one JSON line: status, latency in ms (request sent to body read),
the first 64 KiB of the body, or what went wrong.

The request reports what the URL itself answers: redirects are not followed (a check may expect
a 301), HTTPS certificates are not verified (services in a sandbox have self-signed ones, and
the network is the run's own), no proxy is used. A status other than 2xx is an answer, not an
error: a check may expect 404.

Every condition given must hold: `status`, `body.contains`, `json` (a JSONPath, with the `json`
check's rules: a path with `*` selects a list, each of whose values must compare true, or one
of which must equal the value for `contains`), `latency_ms`. A check with none of them passes on
any 2xx status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from poc_runner import jsonpath
from poc_runner.checks import sandboxed
from poc_runner.checks.compare import Incomparable, compare, expectation
from poc_runner.checks.evidence import Evidence, Judgement, excerpt, missing
from poc_runner.model.checks import HttpCheck, JsonProbe
from poc_runner.model.types import show

BODY_LIMIT = 64 * 1024  # bytes of the body read and judged
_GRACE = 5.0  # seconds the probe may take beyond the request's own timeout (python3 start-up)

PROBE = """\
import json, ssl, sys, time, urllib.error, urllib.request
url, method, timeout, limit = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}),
    urllib.request.HTTPSHandler(context=ssl._create_unverified_context()),
    Stay(),
)
answer = {"status": None, "latency_ms": None, "body_excerpt": "", "truncated": False,
          "error": None, "timed_out": False}
started = time.perf_counter()
try:
    try:
        response = opener.open(urllib.request.Request(url, method=method), timeout=timeout)
    except urllib.error.HTTPError as exc:
        response = exc
    with response:
        status = response.code if isinstance(response, urllib.error.HTTPError) else response.status
        body = response.read(limit + 1)
    answer["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    answer["status"] = status
    answer["body_excerpt"] = body[:limit].decode("utf-8", "replace")
    answer["truncated"] = len(body) > limit
except Exception as exc:
    reason = getattr(exc, "reason", exc)
    answer["timed_out"] = isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError)
    answer["error"] = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
print(json.dumps(answer))
"""


@dataclass
class Answer:
    """What the probe printed."""

    status: int | None = None
    latency_ms: float | None = None
    body_excerpt: str = ""
    truncated: bool = False
    error: str | None = None
    timed_out: bool = False


def judge_http(check: HttpCheck, evidence: Evidence) -> Judgement:
    expected = _expected(check)
    if evidence.sandbox is None:
        return sandboxed.not_running(expected)
    where = f"{check.method} {check.url} from inside the sandbox"
    if check.host not in evidence.sandbox.scenario.services:
        return missing(
            f"{check.url} names {check.host!r}, which is not a service of this scenario; http"
            " checks reach the scenario's services only",
            expected,
        )
    answer = _ask(evidence, check)
    if isinstance(answer, str):
        return missing(f"{where}: {answer}", expected)
    if answer.status is None:
        if answer.timed_out:
            return sandboxed.timed_out(where, expected)
        return missing(f"{where} got no answer: {answer.error}", expected)
    return _judge_answer(check, answer, expected, where)


def _expected(check: HttpCheck) -> dict[str, Any]:
    expected: dict[str, Any] = {}
    if check.status is not None:
        expected["status"] = check.status
    if check.body is not None:
        expected["body.contains"] = check.body.contains
    if check.json_ is not None:
        expected["json"] = f"{check.json_.path} {expectation(check.json_.op, check.json_.value)}"
    if check.latency_ms is not None:
        expected["latency_ms"] = expectation(check.latency_ms.op, check.latency_ms.value)
    return expected or {"status": "2xx"}


def _bare(check: HttpCheck) -> bool:
    """No condition given: the check asks whether the service answers with success."""
    conditions = (check.status, check.body, check.json_, check.latency_ms)
    return all(condition is None for condition in conditions)


def _ask(evidence: Evidence, check: HttpCheck) -> Answer | str:
    """The probe's answer, or why there is none."""
    assert evidence.sandbox is not None
    argv = [
        "python3",
        "-c",
        PROBE,
        check.url,
        check.method,
        f"{sandboxed.TIMEOUT:g}",
        str(BODY_LIMIT),
    ]
    outcome = evidence.sandbox.probe(argv, sandboxed.TIMEOUT + _GRACE)
    if outcome.timed_out:
        return f"no answer within {sandboxed.TIMEOUT:g} s, so the request was stopped"
    lines = outcome.stdout.text().strip().splitlines()
    try:
        printed = json.loads(lines[-1])
        return Answer(**{key: printed[key] for key in Answer.__dataclass_fields__})
    except (IndexError, ValueError, KeyError, TypeError):
        said = excerpt(sandboxed.output(outcome)) or "no output"
        return f"the request could not be sent (exit {outcome.exit_code}): {said}"


def _judge_answer(check: HttpCheck, answer: Answer, expected: Any, where: str) -> Judgement:
    assert answer.status is not None
    measured: dict[str, Any] = {"status": answer.status, "latency_ms": answer.latency_ms}
    failures: list[str] = []
    if check.status is not None and answer.status != check.status:
        failures.append(f"status {answer.status} is not {check.status}")
    if _bare(check) and not 200 <= answer.status < 300:
        failures.append(f"status {answer.status} is not 2xx")
    if check.body is not None and check.body.contains not in answer.body_excerpt:
        failures.append(f"the body does not contain {show(check.body.contains)}{_cut(answer)}")
    if check.json_ is not None:
        value, failure = _json(check.json_, answer)
        measured["json"] = value
        failures += [failure] if failure else []
    if check.latency_ms is not None:
        failures += _latency(check, answer)
    seen = f"status {answer.status} in {answer.latency_ms} ms"
    body = excerpt(answer.body_excerpt, 120)
    return Judgement(
        not failures,
        measured,
        expected,
        f"{where}: {seen}; "
        + ("; ".join(failures) if failures else "every condition holds")
        + (f"; body: {body!r}" if body else "; empty body"),
    )


def _json(probe: JsonProbe, answer: Answer) -> tuple[Any, str | None]:
    """The value the path selects in the body, and what is wrong, if anything."""
    try:
        document = json.loads(answer.body_excerpt)
    except (ValueError, RecursionError):
        return None, f"the body is not JSON{_cut(answer)}"
    found = jsonpath.select(document, probe.path)
    if not found:
        return None, f"{probe.path} matched nothing in the body"
    several = jsonpath.has_wildcard(probe.path)
    value = found if several else found[0]
    items = [value] if not several or probe.op == "contains" else found
    try:
        wrong = next((item for item in items if not compare(item, probe.op, probe.value)), None)
    except Incomparable as exc:
        return value, f"{probe.path}: {exc}"
    if wrong is None:
        return value, None
    return value, f"{probe.path} is {_short(wrong)}, not {probe.op} {probe.value}"


def _latency(check: HttpCheck, answer: Answer) -> list[str]:
    assert check.latency_ms is not None
    op, bound = check.latency_ms.op, check.latency_ms.value
    try:
        if compare(answer.latency_ms, op, bound):
            return []
    except Incomparable as exc:
        return [f"latency: {exc}"]
    return [f"latency {answer.latency_ms} ms is not {op} {bound}"]


def _cut(answer: Answer) -> str:
    return f" (only its first {BODY_LIMIT // 1024} KiB were read)" if answer.truncated else ""


def _short(value: Any) -> str:
    return excerpt(json.dumps(value, ensure_ascii=False, default=str), 80)
