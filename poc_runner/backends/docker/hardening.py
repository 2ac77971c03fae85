"""A service's confinement (plan.py) as the Docker engine takes it: keyword arguments of
`containers.create`. The values are decided by the plan; here they only change shape, and
what Docker adds of its own: no new privileges, the engine's seccomp and AppArmor defaults,
bounded logs, tmpfs mount options.
"""

from __future__ import annotations

from typing import Any

from poc_runner.plan import Confinement

SECURITY_OPTIONS = ("no-new-privileges:true",)
TMPFS_OPTIONS = "rw,nosuid,nodev,size=64m"
LOG_MAX_SIZE = (
    "20m"  # the json-file driver keeps everything unless told; a noisy service fills disks
)


def confinement(confined: Confinement) -> dict[str, Any]:
    """Keyword arguments for `containers.create` that confine one service."""
    from docker.types import LogConfig, Ulimit

    return {
        "privileged": False,
        "cap_drop": ["ALL"],
        "cap_add": list(confined.capabilities),
        "security_opt": list(SECURITY_OPTIONS),
        "mem_limit": confined.memory,
        "memswap_limit": confined.memory,  # no swap: the limit is the limit
        "nano_cpus": int(confined.cpus * 1e9),
        "pids_limit": confined.pids,
        "ulimits": [Ulimit(name=n, soft=soft, hard=hard) for n, soft, hard in confined.ulimits],
        "shm_size": confined.shm_size,
        "init": confined.init,  # tini: reaps zombies and forwards signals, so removal is instant
        "read_only": confined.read_only,
        "tmpfs": dict.fromkeys(confined.tmpfs, TMPFS_OPTIONS),
        "log_config": LogConfig(
            type=LogConfig.types.JSON, config={"max-size": LOG_MAX_SIZE, "max-file": "1"}
        ),
        "use_config_proxy": False,  # never copy the host's proxy settings into the sandbox
    }
