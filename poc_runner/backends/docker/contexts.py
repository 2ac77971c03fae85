"""Docker contexts: the named engines of the docker CLI (`docker context create`, `ls`, `use`).

A context is read as the CLI reads it, from its configuration folder ($DOCKER_CONFIG, else
~/.docker): `contexts/meta/<sha256 of the name>/meta.json` says where the engine is, and
`contexts/tls/<sha256>/docker/` holds its TLS files. The docker SDK has a reader of its own,
which looks in DOCKER_CONFIG only when a config.json is there (`docker context create` writes
none), so it would read another folder's contexts.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poc_runner.errors import SandboxError


def chosen_context() -> str | None:
    """The Docker context that names the engine, if one does (DOCKER_HOST wins over it)."""
    if os.environ.get("DOCKER_HOST"):
        return None
    name = os.environ.get("DOCKER_CONTEXT") or _config().get("currentContext") or "default"
    return None if name == "default" else str(name)


def _config_dir() -> Path:
    """The docker CLI's configuration folder: $DOCKER_CONFIG, else ~/.docker."""
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def _config() -> dict[str, Any]:
    try:
        found = json.loads((_config_dir() / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


@dataclass(frozen=True)
class Context:
    """What a Docker context says of its engine: where, and with which TLS files."""

    name: str
    host: str
    tls: Path | None  # the folder of its ca.pem, cert.pem and key.pem, when it has them
    verify: bool

    @classmethod
    def load(cls, name: str) -> Context:
        key = hashlib.sha256(name.encode()).hexdigest()
        folder = _config_dir() / "contexts"
        try:
            meta = json.loads((folder / "meta" / key / "meta.json").read_text())
            docker = meta["Endpoints"]["docker"]
        except FileNotFoundError:
            raise SandboxError(
                f"there is no Docker context {name!r} in {folder}: `docker context ls` lists them"
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SandboxError(f"the Docker context {name!r} cannot be read ({exc})") from None
        tls = folder / "tls" / key / "docker"
        return cls(
            name,
            str(docker["Host"]),
            tls if tls.is_dir() else None,
            not docker.get("SkipTLSVerify"),
        )
