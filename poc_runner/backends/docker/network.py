"""The run's network: services reach each other by name, and nothing else (spec, "sandbox").

`isolated` (the default) is an internal bridge created with
`com.docker.network.bridge.inhibit_ipv4`: a plain internal bridge still lets containers reach the
host through the gateway address (moby/moby 47356); without an address on the host side there is
no gateway to reach, while the engine's embedded DNS still resolves service names. `egress`
is an ordinary bridge with a route out, and must be asked for.

A service is on this network only, `poc up` included: its ports are published by a forwarder
(forwarder.py), never by connecting the service to a bridge the host can reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from poc_runner.errors import SandboxError

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container
    from docker.models.networks import Network


INHIBIT_IPV4 = "com.docker.network.bridge.inhibit_ipv4"

# With no route out, the engine's embedded DNS still spends 10 s failing on every outside name
# (it tries to forward the query); a product that looks up a licence server at start-up would
# hang. Service names are answered at once, so a 1 s, single-attempt lookup loses nothing.
ISOLATED_DNS_OPTIONS = ["timeout:1", "attempts:1"]

Kind = Literal["isolated", "egress"]
_SETTINGS: dict[str, tuple[bool, dict[str, str]]] = {  # kind -> (internal, driver options)
    "isolated": (True, {INHIBIT_IPV4: "true"}),
    "egress": (False, {}),
}


def create_network(
    client: docker.DockerClient, name: str, kind: Kind, labels: dict[str, str]
) -> Network:
    internal, options = _SETTINGS[kind]
    return client.networks.create(
        name, driver="bridge", internal=internal, options=options, labels=labels
    )


def resolver(kind: Kind) -> dict[str, Any]:
    """How a container on a network of this kind resolves names."""
    return {"dns_opt": ISOLATED_DNS_OPTIONS} if kind == "isolated" else {}


def placement(
    client: docker.DockerClient,
    network: str,
    service: str,
    kind: Kind,
    names: Sequence[str] = (),
    hostname: str | None = None,
) -> dict[str, Any]:
    """Where a service sits on the run's network (keyword arguments of `containers.create`):
    its hostname (its name unless it has its own), its name and other `names` (Compose's
    container name, aliases and links) as DNS aliases, and how it resolves names."""
    aliases = list(dict.fromkeys([service, *names]))
    return {
        "hostname": hostname or service,
        "network": network,
        "networking_config": {network: client.api.create_endpoint_config(aliases=aliases)},
        **resolver(kind),
    }


def address_on(client: docker.DockerClient, container: Container, network: str) -> str:
    """A container's IPv4 address on `network`, as the engine reports it; for one that joined
    another's network namespace (a holder's), that container's. What the forwarder relays to:
    an address, never a name to resolve."""
    container.reload()
    mode = str(container.attrs.get("HostConfig", {}).get("NetworkMode") or "")
    if mode.startswith("container:"):
        container = client.containers.get(mode.removeprefix("container:"))
    joined = container.attrs.get("NetworkSettings", {}).get("Networks") or {}
    address = (joined.get(network) or {}).get("IPAddress")
    if not address:
        raise SandboxError(f"the engine reports no address of {container.name} on {network}")
    return str(address)
