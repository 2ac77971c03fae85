"""`isolation` checks judged on what the helpers answer (spec, "Check types"): a fake sandbox
stands in for the engine and answers as a service's network namespace would. The helper's own
scripts run here too, on this machine's tables, so what they print is what the judge reads.
(tests/integration/test_isolation.py runs the check on real isolated and egress networks.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from poc_runner.backend import Outcome, Targets
from poc_runner.backends.docker.doctor import _dns_advisory
from poc_runner.backends.docker.netprobe import READ_ADDRESSES, lookup_leaks
from poc_runner.checks.evidence import Evidence
from poc_runner.checks.isolation import REACH, ROUTES, judge_isolation, read_routes
from poc_runner.model.checks import IsolationCheck
from poc_runner.sandbox.capture import Capture

HOST = ["127.0.0.1", "192.0.2.2", "172.17.0.1", "::1", "fd00::2"]
GATEWAY = "172.20.0.1"
# /proc/net/route rows: [family, interface, destination, mask, gateway (hex), flags]
SUBNET = [4, "eth0", "000014AC", "0000FFFF", "00000000", 1]
DEAD_DEFAULT = [4, "eth0", "00000000", "00000000", "010014AC", 3]  # via 172.20.0.1
HOST_DEFAULT = [4, "eth0", "00000000", "00000000", "010011AC", 3]  # via 172.17.0.1: the host's
REJECT_V6 = [6, "lo", "0" * 32, "00", "0" * 32, 0x00200200]


def outcome(printed: Any, code: int = 0) -> Outcome:
    out, err = Capture(), Capture()
    out.write(json.dumps(printed).encode())
    return Outcome(code, False, 0.1, out, err)


class FakeSandbox:
    """Answers `probe_within` as the service's namespace would: its routes, then each
    attempt's answer (by address) and the lookup's."""

    def __init__(
        self,
        routes: dict[str, list[list[Any]]],
        answers: dict[str, str] | None = None,
        lookup: dict[str, Any] | None = None,
        network: str = "isolated",
        leaks: str | None = None,
    ) -> None:
        self.routes, self.answers, self.leaks = routes, answers or {}, leaks
        self.lookup = lookup or {"error": "[Errno -3] Temporary failure in name resolution"}
        services = dict.fromkeys(routes, object())
        self.scenario = SimpleNamespace(services=services, sandbox=SimpleNamespace(network=network))
        self.tried: dict[str, list[str]] = {}
        self.asked: dict[str, str] = {}

    def isolation_targets(self) -> Targets:
        return Targets(HOST, [GATEWAY], self.leaks)

    def probe_within(self, service: str, argv: list[str], timeout: float) -> Outcome:
        if argv[2] == ROUTES:
            return outcome(self.routes[service])
        targets = [address for address, _port in json.loads(argv[3])]
        self.tried[service] = targets
        self.asked[service] = argv[4]
        answers = [self.answers.get(a, "ENETUNREACH") for a in targets]
        return outcome({"answers": answers, "lookup": self.lookup})


def judged(sandbox: FakeSandbox, services: list[str] | None = None) -> Any:
    evidence = Evidence({}, Path("/run"), Path("/scenario"), sandbox)  # type: ignore[arg-type]
    return judge_isolation(IsolationCheck(type="isolation", services=services), evidence)


def test_no_route_out_and_every_address_refused_is_isolated() -> None:
    sandbox = FakeSandbox(
        {"app": [SUBNET, REJECT_V6], "db": [SUBNET]}, answers={GATEWAY: "EHOSTUNREACH"}
    )
    result = judged(sandbox)
    assert result.passed, result.evidence
    assert result.measured == {"app": "isolated", "db": "isolated"}
    assert result.expected == "nothing can leave from services app, db"
    assert sandbox.tried["app"] == ["192.0.2.2", "172.17.0.1", "fd00::2", GATEWAY]  # no loopback
    assert "tried 172.20.0.1:80: no one holds it" in result.evidence
    assert "example.com not resolved" in result.evidence


def test_a_default_route_through_a_gateway_no_one_holds_leads_nowhere() -> None:
    """Docker before 25 keeps a default route on an internal network, through a gateway it
    never assigns: trying it proves the route leads nowhere."""
    sandbox = FakeSandbox({"app": [DEAD_DEFAULT, SUBNET]}, answers={GATEWAY: "EHOSTUNREACH"})
    result = judged(sandbox)
    assert result.passed, result.evidence
    assert "default route via 172.20.0.1, which leads nowhere (no one holds it)" in result.evidence


def test_a_default_route_through_the_host_fails_on_that_alone_and_sends_nothing() -> None:
    sandbox = FakeSandbox({"app": [HOST_DEFAULT, SUBNET], "db": [SUBNET]})
    result = judged(sandbox)
    assert not result.passed
    assert "app" not in sandbox.tried and "db" in sandbox.tried  # nothing sent from app
    assert result.measured["app"] == "default route via 172.17.0.1, an address of the host"
    assert "nothing was sent from it" in result.evidence
    assert result.evidence.startswith("not isolated: something can leave from service app")


def test_egress_is_not_met_and_nothing_is_sent() -> None:
    sandbox = FakeSandbox({"app": [DEAD_DEFAULT, SUBNET]}, network="egress")
    result = judged(sandbox)
    assert not result.passed and sandbox.tried == {}
    assert "`sandbox.network: egress`" in result.evidence


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ("connected", "172.17.0.1:80 answered"),
        ("ECONNREFUSED", "answered (with a reset): it is reachable"),
        ("timeout", "stayed silent, so it may be reachable"),
    ],
)
def test_an_address_that_does_not_refuse_is_a_way_out(answer: str, says: str) -> None:
    """A reset means the host was reached (an internal bridge that still holds its gateway,
    moby/moby 47356); silence proves nothing."""
    result = judged(FakeSandbox({"app": [SUBNET]}, answers={"172.17.0.1": answer}))
    assert not result.passed and says in result.evidence


def test_an_outside_name_resolved_is_a_way_out() -> None:
    sandbox = FakeSandbox({"app": [SUBNET]}, lookup={"answer": ["93.184.215.14"]})
    result = judged(sandbox)
    assert not result.passed
    assert result.measured["app"] == "example.com resolved to 93.184.215.14"


def test_an_engine_that_carries_lookups_out_is_not_asked_and_is_a_way_out() -> None:
    """CVE-2024-29018: the lookup itself would leave the machine, so it is never made."""
    why = lookup_leaks("20.10.24+dfsg1", ["127.0.0.53"])
    assert why is not None
    sandbox = FakeSandbox({"app": [SUBNET]}, answers={GATEWAY: "EHOSTUNREACH"}, leaks=why)
    result = judged(sandbox)
    assert sandbox.asked == {"app": ""}  # the addresses tried, no name asked
    assert not result.passed
    assert result.measured["app"] == why
    assert f"example.com not looked up: {why}" in result.evidence
    assert "CVE-2024-29018" in why and "127.0.0.53" in why


def test_a_safe_engine_is_asked_the_outside_name() -> None:
    sandbox = FakeSandbox({"app": [SUBNET]}, answers={GATEWAY: "EHOSTUNREACH"})
    assert judged(sandbox).passed and sandbox.asked == {"app": "example.com"}


@pytest.mark.parametrize(
    ("version", "resolvers", "leaks"),
    [
        ("20.10.24+dfsg1", ["127.0.0.53"], True),
        ("20.10.24+dfsg1", ["10.255.255.53"], False),  # forwarded from the sandbox: no route
        ("20.10.24+dfsg1", ["10.0.0.2", "::1"], True),
        ("23.0.10", ["127.0.0.1"], True),
        ("23.0.11", ["127.0.0.1"], False),
        ("24.0.9", ["127.0.0.1"], True),  # 24.0 had no fixed release
        ("25.0.3", ["127.0.0.1"], True),
        ("25.0.4", ["127.0.0.1"], False),
        ("26.0.0", ["127.0.0.1"], False),
        ("27.5.1", ["127.0.0.1"], False),
        ("master-dockerproject", ["127.0.0.1"], True),  # a version it cannot place
        ("20.10.24", [], False),
    ],
)
def test_which_engines_carry_a_lookup_out(version: str, resolvers: list[str], leaks: bool) -> None:
    assert (lookup_leaks(version, resolvers) is not None) is leaks


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("20.10.24+dfsg1", "warn"),
        ("23.0.11", "ok"),
        ("24.0.9", "warn"),  # `poc doctor` once said "ok" from 23.0.11 on, 24.0 and 25.0.3 too
        ("25.0.3", "warn"),
        ("25.0.4", "ok"),
        ("27.5.1", "ok"),
    ],
)
def test_poc_doctor_places_engines_as_the_isolation_check_does(version: str, status: str) -> None:
    finding = _dns_advisory(version)
    assert finding.status == status
    assert ("CVE-2024-29018" in finding.detail) is (status == "warn")
    assert "no query leaves" not in finding.detail  # a lookup does leave, through the host


def test_poc_doctor_says_when_it_cannot_read_the_engine_version() -> None:
    finding = _dns_advisory("master-dockerproject")
    assert finding.status == "warn" and "cannot read engine version" in finding.detail


def test_only_the_named_services_are_probed() -> None:
    sandbox = FakeSandbox({"app": [SUBNET], "db": [SUBNET]})
    result = judged(sandbox, ["db"])
    assert result.passed and list(sandbox.tried) == ["db"]


def test_without_a_sandbox_it_is_not_judged() -> None:
    evidence = Evidence({}, Path("/run"), Path("/scenario"))
    result = judge_isolation(IsolationCheck(type="isolation"), evidence)
    assert not result.passed and result.evidence.startswith("not judged")


def test_a_helper_that_cannot_run_fails_the_check_saying_so() -> None:
    class Broken(FakeSandbox):
        def probe_within(self, service: str, argv: list[str], timeout: float) -> Outcome:
            out, err = Capture(), Capture()
            err.write(b"exec: python3: not found")
            return Outcome(127, False, 0.1, out, err)

    result = judged(Broken({"app": [SUBNET]}))
    assert not result.passed and "python3: not found" in result.evidence


def test_reading_routes_skips_loopback_and_rejecting_routes() -> None:
    defaults, gateways = read_routes([SUBNET, DEAD_DEFAULT, REJECT_V6])
    assert [(r.gateway, r.interface) for r in defaults] == [("172.20.0.1", "eth0")]
    assert gateways == ["172.20.0.1"]


class TestScriptsHere:
    """The helpers' scripts on this machine: what they print is what the judge reads."""

    def run(self, *argv: str) -> Any:
        done = subprocess.run([sys.executable, "-c", *argv], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def test_routes_read(self) -> None:
        defaults, _ = read_routes(self.run(ROUTES))
        assert isinstance(defaults, list)

    def test_addresses_read(self) -> None:
        found = self.run(READ_ADDRESSES)
        assert "127.0.0.1" in found["addresses"]
        assert isinstance(found["resolvers"], list)

    def test_reach_answers_each_target_in_order(self) -> None:
        said = self.run(REACH, json.dumps([["127.0.0.1", 9]]), "localhost", "2")
        assert said["answers"] == ["ECONNREFUSED"]  # loopback, a closed port: nothing left
        assert said["lookup"]["answer"]

    def test_reach_asks_no_name_when_given_none(self) -> None:
        said = self.run(REACH, json.dumps([["127.0.0.1", 9]]), "", "2")
        assert said["lookup"] == {"error": "not asked"}
