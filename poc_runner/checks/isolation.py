"""`isolation` checks (spec, "Check types"): IT security's "no data leaves the sandbox", proved
from inside each service, without a packet leaving this machine.

For each named service (default: every one), a helper in the service's network namespace
(poc_runner/backends/docker/netprobe.py) first only reads the kernel's routing tables. Then:

- A default route through an address of the host (an `egress` network's gateway), or through
  no gateway at all, is a way out: the service is not isolated on that alone, and nothing is
  sent from it.
- Otherwise the helper tries a TCP connection to every address of the host and every gateway
  of the sandbox's network, and asks the service's own resolver for an outside name. An
  address is refused when the kernel has no route to it, or when no one on the sandbox's link
  holds it (host unreachable: the ARP request, which stays on the sandbox's own bridge, had no
  answer). An address that answers, even with a reset, is reachable; one that stays silent
  proves nothing, so it fails the check too. Engines before Docker 25 keep a default route on
  an internal network through a gateway they never assign (moby/moby 46603): trying that
  gateway shows the route leads nowhere.
- The outside name is not asked of an engine that would carry the question out
  (CVE-2024-29018: engines before 26.0.0, 25.0.4 and 23.0.11 forward a lookup from an internal
  network to a resolver on the host's loopback, from the host): that flaw is the way out.

Nothing of this can reach beyond the machine: with no route out, the kernel sends nothing
beyond the sandbox's own link, and the resolver's forwarded query fails the same way. A
scenario whose `sandbox.network` is `egress` is not met, whatever the services say.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from poc_runner.checks import sandboxed
from poc_runner.checks.evidence import Evidence, Judgement, missing
from poc_runner.errors import ServiceStopped
from poc_runner.model.checks import IsolationCheck

if TYPE_CHECKING:
    from poc_runner.backend import Outcome, SandboxAccess, Targets

OUTSIDE_NAME = "example.com"  # reserved for examples (RFC 2606): it always resolves outside
PORT = 80
WAIT = 5.0  # seconds per connection attempt: a failed ARP resolution takes about 3
_GRACE = 10.0  # the helper's python, the resolver's own time-out

# Prints the network namespace's routes: IPv4 (/proc/net/route) and IPv6 (/proc/net/ipv6_route).
ROUTES = """\
import json
routes = []
with open("/proc/net/route") as table:
    next(table)
    for line in table:
        iface, dest, gateway, flags, _, _, _, mask = line.split()[:8]
        routes.append([4, iface, dest, mask, gateway, int(flags, 16)])
try:
    with open("/proc/net/ipv6_route") as table:
        for line in table:
            dest, length, _, _, gateway, _, _, _, flags, iface = line.split()
            routes.append([6, iface, dest, length, gateway, int(flags, 16)])
except OSError:
    pass
print(json.dumps(routes))
"""

# Tries each [address, port] at once, and looks the outside name up; prints what each answered.
REACH = """\
import errno, json, socket, sys, threading
from concurrent.futures import ThreadPoolExecutor
targets, name, wait = json.loads(sys.argv[1]), sys.argv[2], float(sys.argv[3])
links = [index for index, nic in socket.if_nameindex() if nic != "lo"]
def attempt(target):
    address, port = target
    v6 = ":" in address
    places = [(address, port, 0, index) for index in links] if address.startswith("fe80") else [
        (address, port, 0, 0) if v6 else (address, port)]
    answers = []
    for place in places or [(address, port, 0, 0)]:
        try:
            with socket.socket(socket.AF_INET6 if v6 else socket.AF_INET) as sock:
                sock.settimeout(wait)
                sock.connect(place)
            answers.append("connected")
        except socket.timeout:
            answers.append("timeout")
        except OSError as exc:
            answers.append(errno.errorcode.get(exc.errno, str(exc.errno)))
    return next((a for a in answers if a in ("connected", "ECONNREFUSED", "timeout")), answers[0])
looked = {}
def look():
    if not name:
        looked["error"] = "not asked"
        return
    try:
        looked["answer"] = sorted({info[4][0] for info in socket.getaddrinfo(name, None)})
    except OSError as exc:
        looked["error"] = str(exc)
lookup = threading.Thread(target=look, daemon=True)
lookup.start()
with ThreadPoolExecutor(max(len(targets), 1)) as pool:
    answers = list(pool.map(attempt, targets))
lookup.join(wait + 5)
print(json.dumps({"answers": answers, "lookup": looked or {"error": "no answer in time"}}))
"""

# How the kernel refused an attempt: the address is out of reach, and nothing left the link.
REFUSED = {
    "ENETUNREACH": "no route",
    "EHOSTUNREACH": "no one holds it",
    "EADDRNOTAVAIL": "no address to send from",
    "EAFNOSUPPORT": "no IPv6 here",
    "ENETDOWN": "network down",
    "EACCES": "refused by policy",
    "EPERM": "refused by policy",
}
_TOLD = {
    "connected": "answered",
    "ECONNREFUSED": "answered (with a reset): it is reachable",
    "timeout": "stayed silent, so it may be reachable",
}
_RTF_GATEWAY, _RTF_REJECT = 0x2, 0x200


@dataclass(frozen=True)
class Route:
    family: int
    interface: str
    gateway: str | None  # None: on the link (no gateway)

    def words(self) -> str:
        return f"via {self.gateway}" if self.gateway else f"straight out of {self.interface}"


@dataclass
class Finding:
    """What one service's namespace showed."""

    service: str
    default_routes: list[Route] = field(default_factory=list)
    route_gateways: list[str] = field(default_factory=list)
    way_out: str | None = None  # why the service is not isolated, when it is not
    answers: dict[str, str] = field(default_factory=dict)  # address:port -> answer
    lookup: str = ""

    @property
    def isolated(self) -> bool:
        return self.way_out is None


class Unreadable(Exception):
    """The helper's answer could not be read; the message says what it printed."""


def judge_isolation(check: IsolationCheck, evidence: Evidence) -> Judgement:
    sandbox = evidence.sandbox
    services = list(check.services or (sandbox.scenario.services if sandbox else []))
    expected = f"nothing can leave from {_names(services)}"
    if sandbox is None:
        return sandboxed.not_running(expected)
    egress = sandbox.scenario.sandbox.network == "egress"
    targets = sandbox.isolation_targets()
    try:
        with ThreadPoolExecutor(max(min(len(services), 4), 1), "isolation") as pool:
            found = list(pool.map(lambda name: _look(sandbox, name, targets, egress), services))
    except (Unreadable, ServiceStopped) as exc:
        return missing(f"isolation could not be judged: {exc}", expected)
    measured = {f.service: "isolated" if f.isolated else (f.way_out or "") for f in found}
    lines = [_verdict(found, egress), *(line for f in found for line in _lines(f))]
    passed = not egress and all(f.isolated for f in found)
    return Judgement(passed, measured, expected, "\n".join(lines))


def _look(sandbox: SandboxAccess, service: str, targets: Targets, egress: bool) -> Finding:
    """One service: its routes first; then, only when no route leads out, the attempts."""
    finding = Finding(service)
    routes = _run(sandbox, service, ["python3", "-c", ROUTES], "reading the routes")
    defaults, finding.route_gateways = read_routes(routes)
    finding.default_routes = defaults
    host = [_plain(a) for a in targets.host if not ipaddress.ip_address(_plain(a)).is_loopback]
    outward = [r for r in defaults if r.gateway is None or r.gateway in host]
    if outward:
        finding.way_out = f"default route {outward[0].words()}, an address of the host"
        if outward[0].gateway is None:
            finding.way_out = f"default route {outward[0].words()}"
        return finding
    if egress:
        finding.way_out = "the sandbox's network is `egress`"
        return finding
    gateways = [_plain(gateway) for gateway in [*targets.gateways, *finding.route_gateways]]
    tried = list(dict.fromkeys([*host, *gateways]))
    reach = [[address, PORT] for address in tried]
    name = "" if targets.lookup_leaks else OUTSIDE_NAME  # a question that would leave: unasked
    argv = ["python3", "-c", REACH, json.dumps(reach), name, str(WAIT)]
    said = _run(sandbox, service, argv, "trying the host's addresses", WAIT * 2 + _GRACE)
    answers, finding.lookup = read_reach(said, len(reach))
    if targets.lookup_leaks:
        finding.lookup = f"{OUTSIDE_NAME} not looked up: {targets.lookup_leaks}"
    finding.answers = {
        _place(address): answer for address, answer in zip(tried, answers, strict=True)
    }
    finding.way_out = _way_out(finding) or targets.lookup_leaks
    return finding


def _run(
    sandbox: SandboxAccess, service: str, argv: list[str], doing: str, timeout: float = 30.0
) -> Any:
    outcome: Outcome = sandbox.probe_within(service, argv, timeout)
    if outcome.timed_out:
        raise Unreadable(f"{doing} in service {service!r} did not finish within {timeout:g} s")
    text = outcome.stdout.text().strip()
    if outcome.exit_code == 0:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    said = outcome.stderr.text().strip()[-300:] or text[-300:] or "nothing"
    raise Unreadable(f"{doing} in service {service!r} failed: {said}")


def read_routes(routes: Any) -> tuple[list[Route], list[str]]:
    """The default routes (rejecting ones and loopback's aside) and every gateway a route uses."""
    if not isinstance(routes, list):
        raise Unreadable(f"the routes read as {str(routes)[:100]!r}")
    defaults, gateways = [], []
    for family, interface, dest, mask, gateway_hex, flags in routes:
        if interface == "lo" or flags & _RTF_REJECT:
            continue
        gateway = _gateway(family, gateway_hex) if flags & _RTF_GATEWAY else None
        if gateway is not None:
            gateways.append(gateway)
        if int(dest, 16) == 0 and int(mask, 16) == 0:
            defaults.append(Route(family, interface, gateway))
    return defaults, list(dict.fromkeys(gateways))


def _gateway(family: int, digits: str) -> str | None:
    raw = bytes.fromhex(digits)
    if family == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])  # /proc/net/route is little-endian
    address = socket.inet_ntop(socket.AF_INET6, raw)
    return None if address == "::" else address


def read_reach(said: Any, count: int) -> tuple[list[str], str]:
    """Each attempt's answer, and the lookup's, in words."""
    answers = said.get("answers") if isinstance(said, dict) else None
    if not isinstance(answers, list) or len(answers) != count:
        raise Unreadable(f"the attempts read as {str(said)[:100]!r}")
    looked = said.get("lookup") or {}
    if looked.get("answer"):
        lookup = f"{OUTSIDE_NAME} resolved to {', '.join(map(str, looked['answer']))}"
    else:
        lookup = f"{OUTSIDE_NAME} not resolved ({looked.get('error') or 'no answer'})"
    return [str(answer) for answer in answers], lookup


def _way_out(finding: Finding) -> str | None:
    reached = [place for place, answer in finding.answers.items() if answer not in REFUSED]
    if reached:
        how = finding.answers[reached[0]]
        return f"{reached[0]} {_TOLD.get(how, f'did not refuse ({how})')}"
    if "resolved to" in finding.lookup:
        return finding.lookup
    return None


def _verdict(found: list[Finding], egress: bool) -> str:
    if egress:
        return (
            "not isolated: the scenario gives its services a route out (`sandbox.network:"
            " egress`); nothing was sent to prove it"
        )
    leaky = [f.service for f in found if not f.isolated]
    if leaky:
        return f"not isolated: something can leave from {_names(leaky)}"
    return f"isolated: nothing can leave from {_names([f.service for f in found])}"


def _lines(finding: Finding) -> list[str]:
    """One service's evidence: its routes, what was tried and what each answered."""
    routes = "; ".join(_route(finding, route) for route in finding.default_routes)
    lines = [f"service {finding.service}: {routes or 'no default route'}"]
    if not finding.answers:
        if finding.way_out:
            lines.append(f"  a way out: {finding.way_out}; nothing was sent from it")
        return lines
    grouped: dict[str, list[str]] = defaultdict(list)
    for place, answer in finding.answers.items():
        grouped[REFUSED.get(answer, answer)].append(place)
    for answer, places in grouped.items():
        lines.append(f"  tried {_listed(places)}: {answer}")
    lines.append(f"  {finding.lookup}")
    if finding.way_out:
        lines.append(f"  a way out: {finding.way_out}")
    return lines


def _listed(places: list[str]) -> str:
    """Addresses tried, the host's many link-local IPv6 ones (one per virtual interface)
    counted rather than listed."""
    local = [place for place in places if place.startswith("[fe80:")]
    named = [place for place in places if place not in local]
    if len(local) > 2:
        named.append(f"{len(local)} link-local IPv6 addresses of the host")
    else:
        named += local
    return ", ".join(named)


def _route(finding: Finding, route: Route) -> str:
    """A default route, and where it leads when its gateway was tried."""
    said = f"default route {route.words()}"
    answer = finding.answers.get(_place(route.gateway)) if route.gateway else None
    if answer in REFUSED:
        return f"{said}, which leads nowhere ({REFUSED[str(answer)]})"
    return said


def _plain(address: str) -> str:
    """An address as it is usually written (IPv6 compressed), without a zone."""
    return ipaddress.ip_address(address.split("%")[0]).compressed


def _place(address: str) -> str:
    return f"[{address}]:{PORT}" if ":" in address else f"{address}:{PORT}"


def _names(services: list[str]) -> str:
    if not services:
        return "no service"
    return ("service " if len(services) == 1 else "services ") + ", ".join(services)


__all__ = ["REFUSED", "judge_isolation", "read_reach", "read_routes"]
