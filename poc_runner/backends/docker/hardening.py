"""How every service container is confined, whatever its scenario asks (CIS Docker Benchmark §5).

The settings here are the sandbox's floor; a scenario can only move within them (its own
`resources`, NET_BIND_SERVICE, a read-only root file system, tmpfs mounts).
"""

from __future__ import annotations

from typing import Any

from poc_runner.backends.docker.volumes import tmpfs_targets
from poc_runner.model.services import ULIMIT_CAPS, Service

# Docker's default set minus what a sandbox does not need (NET_RAW: spoofing and raw sockets,
# MKNOD, SETFCAP, SETPCAP, SYS_CHROOT, AUDIT_WRITE, FSETID, NET_BIND_SERVICE unless asked for).
# What remains lets an image whose entrypoint starts as root prepare its data folder and drop to
# its service user (PostgreSQL, MariaDB and nginx images do): CHOWN, DAC_OVERRIDE, FOWNER,
# SETUID, SETGID, and KILL to stop its own workers. A process that runs as a non-root user has
# none of them whatever this list says.
DEFAULT_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "KILL")
SECURITY_OPTIONS = ("no-new-privileges:true",)
OPEN_FILES = (4096, 8192)  # soft, hard; a container may lower the limits, not raise them
LOG_MAX_SIZE = (
    "20m"  # the json-file driver keeps everything unless told; a noisy service fills disks
)


def confinement(service: Service) -> dict[str, Any]:
    """Keyword arguments for `containers.create` that confine one service."""
    from docker.types import LogConfig, Ulimit

    resources = service.limits
    capabilities = sorted(
        {*DEFAULT_CAPABILITIES, *(c.upper().removeprefix("CAP_") for c in service.cap_add)}
    )
    return {
        "privileged": False,
        "cap_drop": ["ALL"],
        "cap_add": capabilities,
        "security_opt": list(SECURITY_OPTIONS),
        "mem_limit": resources.memory,
        "memswap_limit": resources.memory,  # no swap: the limit is the limit
        "nano_cpus": int(resources.cpus * 1e9),
        "pids_limit": resources.pids,
        "ulimits": [Ulimit(name=n, soft=soft, hard=hard) for n, (soft, hard) in _limits(service)],
        "shm_size": min(service.shm_size, resources.memory) if service.shm_size else None,
        "init": service.init,  # tini: reaps zombies and forwards signals, so removal is instant
        "read_only": service.read_only,
        "tmpfs": dict.fromkeys(_tmpfs_paths(service), "rw,nosuid,nodev,size=64m"),
        "log_config": LogConfig(
            type=LogConfig.types.JSON, config={"max-size": LOG_MAX_SIZE, "max-file": "1"}
        ),
        "use_config_proxy": False,  # never copy the host's proxy settings into the sandbox
    }


def _tmpfs_paths(service: Service) -> list[str]:
    written = [service.tmpfs] if isinstance(service.tmpfs, str) else list(service.tmpfs)
    return [*written, *tmpfs_targets(service)]


def _limits(service: Service) -> list[tuple[str, tuple[int, int]]]:
    """Open files as the sandbox sets them, then what the service asks for (Compose's
    `ulimits`) of those it may raise, each within its cap; -1 (unlimited) is the cap."""
    limits: dict[str, tuple[int, int]] = {"nofile": OPEN_FILES}
    for name, asked in service.ulimits.items():
        cap = ULIMIT_CAPS.get(name)
        if cap is None:
            continue  # left at the engine's default (validation says so)
        soft, hard = (cap if value < 0 else min(value, cap) for value in (asked.soft, asked.hard))
        limits[name] = (soft, hard)
    return list(limits.items())
