"""How every service container is confined (`confinement`)."""

from __future__ import annotations

from typing import Any

import pytest

from poc_runner.backends.docker import hardening
from poc_runner.backends.docker.hardening import LOG_MAX_SIZE, SECURITY_OPTIONS
from poc_runner.model import Service
from poc_runner.plan import DEFAULT_CAPABILITIES, OPEN_FILES, confinement_of


def service(**fields: Any) -> Service:
    return Service.model_validate({"image": "postgres:16", **fields})


def confinement(service: Service) -> dict[str, Any]:
    """What the Docker engine is given for the service: its plan's confinement, as kwargs."""
    return hardening.confinement(confinement_of(service))


DOCUMENTED_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID", "SETUID"]


class TestConfinement:
    def test_every_capability_dropped_then_the_documented_few_added(self) -> None:
        options = confinement(service())
        assert options["cap_drop"] == ["ALL"]
        assert options["cap_add"] == DOCUMENTED_CAPABILITIES
        assert sorted(DEFAULT_CAPABILITIES) == DOCUMENTED_CAPABILITIES

    @pytest.mark.parametrize(
        "spelling", ["NET_BIND_SERVICE", "net_bind_service", "CAP_NET_BIND_SERVICE"]
    )
    def test_net_bind_service_only_when_asked(self, spelling: str) -> None:
        options = confinement(service(cap_add=[spelling]))
        assert options["cap_add"] == sorted([*DOCUMENTED_CAPABILITIES, "NET_BIND_SERVICE"])

    def test_asking_twice_adds_it_once(self) -> None:
        options = confinement(service(cap_add=["NET_BIND_SERVICE", "CAP_NET_BIND_SERVICE"]))
        assert options["cap_add"].count("NET_BIND_SERVICE") == 1

    def test_what_a_sandbox_must_not_have_is_never_added(self) -> None:
        added = set(confinement(service(cap_add=["NET_BIND_SERVICE"]))["cap_add"])
        for dangerous in ("NET_RAW", "MKNOD", "SYS_ADMIN", "SYS_PTRACE", "NET_ADMIN", "SYS_CHROOT"):
            assert dangerous not in added

    def test_never_privileged(self) -> None:
        assert confinement(service())["privileged"] is False

    def test_no_new_privileges(self) -> None:
        options = confinement(service(security_opt=["no-new-privileges:true"]))
        assert options["security_opt"] == ["no-new-privileges:true"]
        assert list(SECURITY_OPTIONS) == ["no-new-privileges:true"]
        assert confinement(service())["security_opt"] == ["no-new-privileges:true"]

    def test_default_resources(self) -> None:
        options = confinement(service())
        assert options["mem_limit"] == 1024**3
        assert options["memswap_limit"] == options["mem_limit"]
        assert options["nano_cpus"] == 1_000_000_000
        assert options["pids_limit"] == 512

    @pytest.mark.parametrize(
        ("resources", "memory", "nano_cpus", "pids"),
        [
            ({"memory": "512m", "cpus": 1.0, "pids": 256}, 512 * 1024**2, 10**9, 256),
            ({"memory": "2g", "cpus": 0.5}, 2 * 1024**3, 500_000_000, 512),
            ({"cpus": 2.25, "pids": 16}, 1024**3, 2_250_000_000, 16),
            ({"memory": 64 * 1024**2, "cpus": 0.1}, 64 * 1024**2, 100_000_000, 512),
        ],
    )
    def test_the_scenario_resources(
        self, resources: dict[str, Any], memory: int, nano_cpus: int, pids: int
    ) -> None:
        options = confinement(service(resources=resources))
        assert options["mem_limit"] == memory
        assert options["memswap_limit"] == memory  # no swap: the limit is the limit
        assert options["nano_cpus"] == nano_cpus
        assert isinstance(options["nano_cpus"], int)
        assert options["pids_limit"] == pids

    def test_open_files_limited(self) -> None:
        (ulimit,) = confinement(service())["ulimits"]
        assert (ulimit.name, ulimit.soft, ulimit.hard) == ("nofile", *OPEN_FILES)

    def test_init_reaps_zombies(self) -> None:
        assert confinement(service())["init"] is True

    @pytest.mark.parametrize("read_only", [True, False])
    def test_read_only_root_as_the_scenario_says(self, read_only: bool) -> None:
        assert confinement(service(read_only=read_only))["read_only"] is read_only

    def test_no_tmpfs_by_default(self) -> None:
        assert confinement(service())["tmpfs"] == {}

    @pytest.mark.parametrize(
        ("tmpfs", "paths"),
        [("/tmp", ["/tmp"]), (["/tmp", "/run/app"], ["/tmp", "/run/app"])],
    )
    def test_tmpfs_mounts_are_small_and_inert(self, tmpfs: Any, paths: list[str]) -> None:
        mounts = confinement(service(tmpfs=tmpfs))["tmpfs"]
        assert list(mounts) == paths
        for options in mounts.values():
            assert set(options.split(",")) == {"rw", "nosuid", "nodev", "size=64m"}

    def test_logs_are_capped(self) -> None:
        log = confinement(service())["log_config"]
        assert log.type == "json-file"
        assert log.config == {"max-size": LOG_MAX_SIZE, "max-file": "1"}
        assert LOG_MAX_SIZE == "20m"

    def test_the_hosts_proxy_settings_stay_out(self) -> None:
        assert confinement(service())["use_config_proxy"] is False

    def test_nothing_that_would_weaken_the_sandbox(self) -> None:
        options = confinement(service(cap_add=["NET_BIND_SERVICE"], read_only=True))
        for forbidden in (
            "network_mode",
            "pid_mode",
            "ipc_mode",
            "devices",
            "volumes",
            "userns_mode",
            "ports",
            "cgroupns",
            "device_requests",
        ):
            assert forbidden not in options

    def test_keywords_docker_accepts(self) -> None:
        from docker.models.containers import RUN_HOST_CONFIG_KWARGS

        accepted = {*RUN_HOST_CONFIG_KWARGS, "use_config_proxy"}
        assert set(confinement(service())) <= accepted


class TestComposeLimits:
    def test_compose_limits_map_onto_the_engines_and_resources_win(self) -> None:
        options = confinement(service(mem_limit="256m", cpus=0.5, resources={"cpus": 2}))
        assert options["mem_limit"] == options["memswap_limit"] == 256 * 1024**2
        assert options["nano_cpus"] == 2 * 10**9

    def test_ulimits_apply_within_their_caps_and_the_rest_stay_at_the_engines(self) -> None:
        options = confinement(
            service(ulimits={"nofile": {"soft": 20000, "hard": 40000}, "nproc": -1, "memlock": -1})
        )
        limits = {u.name: (u.soft, u.hard) for u in options["ulimits"]}
        assert limits == {"nofile": (20000, 40000), "nproc": (65536, 65536)}

    def test_shared_memory_is_at_most_the_memory_limit_and_init_can_be_turned_off(self) -> None:
        options = confinement(service(shm_size="2g", mem_limit="512m", init=False))
        assert options["shm_size"] == 512 * 1024**2
        assert options["init"] is False
        assert confinement(service())["shm_size"] is None
