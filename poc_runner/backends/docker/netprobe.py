"""Where the `isolation` check looks from (checks/isolation.py): helpers inside a service's
network namespace, and the addresses of the machine the sandbox runs on.

A service's image may have no shell, no python and no `ip`, so the check never runs in it: a
helper joins the service's network namespace (`network_mode: container:<service>`) and sees
what the service sees, its routes, its addresses and its resolver (Docker gives a container
that joins another's namespace that container's /etc/resolv.conf and /etc/hosts).

The host's addresses are read by a helper on the host's network that only reads two kernel
tables (/proc/net/fib_trie, /proc/net/if_inet6) and the resolvers the engine uses
(/etc/resolv.conf) and opens no socket: the engine's host is not always this machine (an engine
reached over SSH or TCP), so its addresses are read there.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import TYPE_CHECKING, Any

from poc_runner.backend import Outcome
from poc_runner.backends.docker.execute import execute
from poc_runner.backends.docker.helpers import confined, create_helper

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container
    from docker.models.networks import Network


# Prints every address the host holds (the kernel's local IPv4 routes, its IPv6 addresses) and
# the resolvers named in /etc/resolv.conf.
READ_ADDRESSES = """\
import json
found = []
try:
    with open("/proc/net/fib_trie") as table:
        lines = table.read().splitlines()
    found += [above.split()[-1] for above, line in zip(lines, lines[1:])
              if line.strip() == "/32 host LOCAL"]
except OSError:
    pass
try:
    with open("/proc/net/if_inet6") as table:
        for line in table:
            digits = line.split()[0]
            found.append(":".join(digits[i:i + 4] for i in range(0, 32, 4)))
except OSError:
    pass
resolvers = []
try:
    with open("/etc/resolv.conf") as conf:
        for line in conf:
            words = line.split()
            if len(words) > 1 and words[0] == "nameserver":
                resolvers.append(words[1])
except OSError:
    pass
print(json.dumps({"addresses": sorted(set(found)), "resolvers": resolvers}))
"""
_READ_TIMEOUT = 30.0


def create_within(
    client: docker.DockerClient, service: Container, name: str | None, labels: dict[str, str]
) -> Container:
    """A helper (not started) in `service`'s network namespace, with nothing but what reading
    and connecting need: no capabilities."""
    return _helper(client, name, labels, f"container:{service.id}")


def create_reader(
    client: docker.DockerClient, name: str | None, labels: dict[str, str]
) -> Container:
    """A helper (not started) on the host's network, to read the host's addresses."""
    return _helper(client, name, labels, "host")


def _helper(
    client: docker.DockerClient, name: str | None, labels: dict[str, str], network_mode: str
) -> Container:
    return create_helper(
        client,
        "the isolation check",
        ["sleep", "infinity"],
        name=name,
        labels=labels,
        network_mode=network_mode,
        init=True,
        **confined(memory="64m", pids=32),
    )


def read_host(reader: Container) -> tuple[list[str], list[str]]:
    """Every address the engine's host holds (loopback included: the check leaves it out), and
    the resolvers the engine forwards names to (a host-network container gets the engine's
    own choice: the host's /etc/resolv.conf, or systemd-resolved's upstream list)."""
    said = _json(execute(reader, ["python3", "-c", READ_ADDRESSES], timeout=_READ_TIMEOUT))
    return [str(a) for a in said["addresses"]], [str(r) for r in said["resolvers"]]


def lookup_leaks(engine_version: str, resolvers: list[str]) -> str | None:
    """Why a lookup inside an internal network leaves this machine, when it does: engines before
    26.0.0, 25.0.4 and 23.0.11 forward it from the host's own namespace to a resolver on the
    host's loopback (CVE-2024-29018), and from there it goes wherever that resolver sends it."""
    loopback = [r for r in resolvers if _is_loopback(r)]
    if not loopback or dns_fixed(engine_version):
        return None
    return (
        f"the engine (Docker {engine_version}) forwards the sandbox's name lookups from the host"
        f" to the host's resolver {loopback[0]}, which sends them out: a service can pass data"
        " out in a name it looks up (CVE-2024-29018; fixed in Docker 26.0.0, 25.0.4 and 23.0.11)"
    )


def dns_fixed(version: str) -> bool | None:
    """Whether an engine of this version has the fix for CVE-2024-29018; None when the version
    cannot be placed (then the flaw is assumed to be there)."""
    numbers = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    if numbers is None:
        return None
    found = tuple(int(n) for n in numbers.groups())
    fixed_in = ((23, 0, 11), (23, 1, 0)), ((25, 0, 4), (25, 1, 0)), ((26, 0, 0), (10**6, 0, 0))
    return any(first <= found < after for first, after in fixed_in)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def gateways(network: Network) -> list[str]:
    """The gateways the engine gave the network (its IPAM configuration)."""
    network.reload()
    configs = (network.attrs.get("IPAM") or {}).get("Config") or []
    return [str(config["Gateway"]).split("/")[0] for config in configs if config.get("Gateway")]


def _json(outcome: Outcome) -> dict[str, list[Any]]:
    from poc_runner.errors import SandboxError

    text = outcome.stdout.text().strip()
    try:
        found: Any = json.loads(text) if outcome.exit_code == 0 else None
    except json.JSONDecodeError:
        found = None
    if not isinstance(found, dict) or not all(
        isinstance(found.get(key), list) for key in ("addresses", "resolvers")
    ):
        said = outcome.stderr.text().strip()[-300:] or text[-300:] or "nothing"
        raise SandboxError(f"could not read the host's addresses for the isolation check: {said}")
    return found
