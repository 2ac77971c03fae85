"""Every setting the spec rejects for safety is refused with its reason, naming the field."""

from __future__ import annotations

import pytest

from tests.unit.conftest import Check, only_error

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
