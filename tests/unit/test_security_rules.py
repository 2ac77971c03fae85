"""Every setting the spec rejects for safety is refused with its reason, naming the field."""

from __future__ import annotations

import pytest

from poc_runner.model.types import reads_as_address
from tests.unit.conftest import Check, errors, only_error

APP = '    ports: ["8080"]\n    cap_add: [NET_BIND_SERVICE]\n    security_opt: ["no-new-privileges:true"]'


@pytest.mark.parametrize(
    ("setting", "key_path", "fragment"),
    [
        ("privileged: true", "services.app.privileged", "full control of the host"),
        ("network_mode: host", "services.app.network_mode", "route out"),
        ("network_mode: none", "services.app.network_mode", "route out"),
        ("pid: host", "services.app.pid", "process namespace"),
        ("ipc: host", "services.app.ipc", "IPC"),
        ("userns_mode: host", "services.app.userns_mode", "host's"),
        ("devices: [/dev/sda]", "services.app.devices", "host device"),
        (
            "volumes: [/var/run/docker.sock:/var/run/docker.sock]",
            "services.app.volumes[0]",
            "the Docker socket gives the container the whole host",
        ),
        ("volumes: [/etc:/host-etc:ro]", "services.app.volumes[0]", "never mounts host paths"),
        ("volumes: ['~/.ssh:/root/.ssh']", "services.app.volumes[0]", "never mounts host paths"),
        ("volumes: ['../secrets:/s']", "services.app.volumes[0]", "outside the scenario folder"),
        (
            "volumes: [{type: bind, source: /run/docker.sock, target: /s}]",
            "services.app.volumes[0]",
            "Docker socket",
        ),
        ("volumes_from: [db]", "services.app.volumes_from", "not allowed"),
        ("cap_add: [NET_BIND_SERVICE, SYS_ADMIN]", "services.app.cap_add[1]", "SYS_ADMIN"),
        ("cap_add: [CAP_NET_RAW]", "services.app.cap_add[0]", "only NET_BIND_SERVICE"),
        ("cap_add: [ALL]", "services.app.cap_add[0]", "weaken"),
        ("security_opt: [seccomp=unconfined]", "services.app.security_opt[0]", "confinement"),
        ("security_opt: [apparmor=unconfined]", "services.app.security_opt[0]", "confinement"),
        ("security_opt: ['label:disable']", "services.app.security_opt[0]", "confinement"),
        (
            "security_opt: ['no-new-privileges:false']",
            "services.app.security_opt[0]",
            "confinement",
        ),
        (
            "security_opt: ['seccomp=/etc/profile.json']",
            "services.app.security_opt[0]",
            "confinement",
        ),
        ("ports: ['0.0.0.0:8080:8080']", "services.app.ports[0]", "127.0.0.1 only"),
        ("cgroup_parent: /", "services.app.cgroup_parent", "not allowed"),
        ("sysctls: {net.ipv4.ip_forward: 1}", "services.app.sysctls", "not allowed"),
        ("dns: [192.0.2.53]", "services.app.dns", "way out"),
        (
            "extra_hosts: ['host.docker.internal:host-gateway']",
            "services.app.extra_hosts",
            "outside",
        ),
    ],
)
def test_security_rejections(check: Check, setting: str, key_path: str, fragment: str) -> None:
    found = only_error(check((APP, f"    {setting}")))
    assert found.rule == "security"
    assert found.key_path == key_path
    assert fragment in found.message


@pytest.mark.parametrize(
    ("setting", "key_path"),
    [
        ("restart: always", "services.app.restart"),
        ("expose: ['8080']", "services.app.expose"),
        ("tty: true", "services.app.tty"),
        ("deploy: {replicas: 2}", "services.app.deploy.replicas"),
    ],
)
def test_compose_fields_without_a_place_in_a_sandbox_are_ignored_with_one_warning(
    check: Check, setting: str, key_path: str
) -> None:
    result = check((APP, f"    {setting}"))
    assert result.ok
    (found,) = [d for d in result.diagnostics if d.rule == "ignored"]
    assert (found.severity, found.key_path) == ("warning", key_path)


@pytest.mark.parametrize(
    "setting",
    [
        "privileged: false",
        "cap_add: [NET_BIND_SERVICE]",
        "cap_add: [cap_net_bind_service]",
        "security_opt: [no-new-privileges]",
        "security_opt: ['no-new-privileges=true']",
        "ports: ['127.0.0.1:9000:8080', '9001:8080/udp', '127.0.0.1::8080', 443]",
    ],
)
def test_settings_that_keep_the_sandbox_tight_are_accepted(check: Check, setting: str) -> None:
    assert check((APP, f"    {setting}")).ok


def test_all_security_problems_in_a_service_are_reported_together(check: Check) -> None:
    result = check((APP, "    privileged: true\n    pid: host\n    volumes: [/:/host]"))
    assert [d.key_path for d in result.diagnostics] == [
        "services.app.privileged",
        "services.app.pid",
        "services.app.volumes[0]",
    ]


@pytest.mark.parametrize(
    ("setting", "key_path"),
    [
        ("hostname: 192.0.2.2", "services.app.hostname"),
        ("container_name: '3221226018'", "services.app.container_name"),
        ("networks: {default: {aliases: [0x7f.1]}}", "services.app.networks.default.aliases[0]"),
        (
            "networks: {default: {aliases: ['0177.0.0.1']}}",
            "services.app.networks.default.aliases[0]",
        ),
        ("links: ['db:127.1']", "services.app.links[0]"),
    ],
)
def test_a_name_on_the_network_that_reads_as_an_address_is_refused(
    check: Check, setting: str, key_path: str
) -> None:
    """`gethostbyname` takes a name that parses as an IPv4 address as that address, in every
    form `inet_aton` reads: a relay or a peer given such a name reaches the address instead."""
    found = only_error(check((APP, f"    {setting}")))
    assert (found.rule, found.key_path) == ("security", key_path)
    assert "reads as an IP address" in found.message or "names an IP address" in found.message


def test_a_service_named_like_an_address_is_refused(check: Check) -> None:
    result = check(("  app:\n", "  192.0.2.2:\n    image: x\n  app:\n"))
    found = [d for d in errors(result) if d.rule == "security"]
    assert [d.key_path for d in found] == ['services["192.0.2.2"]']
    assert "needs a letter" in found[0].message


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("192.0.2.2", True),
        ("3221226018", True),
        ("0x7f.1", True),
        ("0177.1", True),
        ("127.1", True),
        ("1.2.3.4.", True),
        ("2024", True),
        ("db1", False),
        ("v1.2", False),
        ("1.2.3.4.5", False),
        ("1a", False),
        ("api-2", False),
    ],
)
def test_what_reads_as_an_address(name: str, address: bool) -> None:
    assert reads_as_address(name) is address
