"""A service's `volumes`, `configs` and `secrets` entries, in Compose's short and long syntax.

What a sandbox can honour it does its own way (spec, "compose"): a named or anonymous volume is a
fresh volume of the run; a bind mount of a path inside the scenario folder is a copy. Anything
else on the host is refused here, naming the entry: the sandbox never touches the host. Paths
of bind mounts arrive relative to the scenario folder (the Compose stage rebased them from their
file's folder), written `./...`, as Compose writes paths.
"""

from __future__ import annotations

import posixpath
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from poc_runner.model.types import ContainerPath, Strict, error, show

HOST_CLOCK_FILES = frozenset({"/etc/localtime", "/etc/timezone"})  # left out, with a warning
_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_SOCKET = re.compile(r"(^|/)(docker|containerd|podman)(\.sock|/.*\.sock)$")
_MODES = frozenset({"ro", "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated"})
_MODES |= {"shared", "rshared", "slave", "rslave", "private", "rprivate"}


class VolumeOptions(Strict):
    nocopy: bool = False
    subpath: str | None = None


class BindOptions(Strict):
    propagation: str | None = None  # meaningless for a copy
    create_host_path: bool = True
    selinux: Literal["z", "Z"] | None = None


class TmpfsOptions(Strict):
    size: int | str | None = None
    mode: int | None = None


def short_volume(value: Any) -> Any:
    """`[SOURCE:]TARGET[:MODE]` as the long syntax; other shapes go on to be refused there."""
    if not isinstance(value, str):
        return value
    parts = value.split(":")
    mode = ""
    if len(parts) == 3 or (len(parts) == 2 and set(parts[1].split(",")) <= _MODES):
        mode = parts.pop()
    if len(parts) > 2:
        raise error("volume", f"{show(value)} is not SOURCE:TARGET[:MODE]")
    modes = set(mode.split(",")) if mode else set()
    if not modes <= _MODES:
        raise error("volume", f"{show(mode)} is not a mount mode; use ro or rw")
    long: dict[str, Any] = {"target": parts[-1], "read_only": "ro" in modes}
    if len(parts) == 1:
        long["type"] = "volume"  # anonymous
    else:
        source = parts[0]
        long["source"] = source
        long["type"] = "bind" if source[:1] in (".", "/", "~") else "volume"
        if "nocopy" in modes:
            long["volume"] = {"nocopy": True}
    return long


class VolumeMount(Strict):
    """One mount of a service, as Compose's long syntax has it."""

    type: Literal["volume", "bind", "tmpfs"]
    source: str | None = None
    target: ContainerPath
    read_only: bool = False
    consistency: str | None = None  # macOS file sharing; nothing to do here
    volume: VolumeOptions | None = None
    bind: BindOptions | None = None
    tmpfs: TmpfsOptions | None = None

    @model_validator(mode="after")
    def _stays_in_the_sandbox(self) -> VolumeMount:
        source = self.source or ""
        if self.type == "volume" and source and not _VOLUME_NAME.fullmatch(source):
            raise error("volume", f"{show(source)} is not a volume name (letters, digits, _.-)")
        if self.type == "bind":
            if not source:
                raise error("volume", "a bind mount needs a `source`")
            _refuse_host_path(source)
        return self

    @property
    def host_clock(self) -> bool:
        """A bind of the host's clock files: left out (containers keep UTC; set TZ)."""
        return self.type == "bind" and (self.source or "") in HOST_CLOCK_FILES

    @property
    def copied_from(self) -> str | None:
        """The path inside the scenario folder a bind mount copies, else None."""
        if self.type != "bind" or self.host_clock:
            return None
        return posixpath.normpath(self.source or ".")


def _refuse_host_path(source: str) -> None:
    if source in HOST_CLOCK_FILES:
        return
    normal = posixpath.normpath(source)
    if _SOCKET.search(normal):
        raise error(
            "security",
            f"{show(source)} is refused: the Docker socket gives the container the whole host",
        )
    if source.startswith(("/", "~")):
        raise error(
            "security",
            f"{show(source)} is a folder of the host, outside the scenario folder; the sandbox"
            " never mounts host paths: copy what the service needs into the scenario folder and"
            " mount it from there (./...)",
        )
    if normal == ".." or normal.startswith("../"):
        raise error(
            "security",
            f"{show(source)} leads outside the scenario folder; the sandbox never mounts host"
            " paths: copy what the service needs into the scenario folder",
        )


Volume = Annotated[VolumeMount, BeforeValidator(short_volume)]


def _short_file(value: Any) -> Any:
    return {"source": value} if isinstance(value, str) else value


class FileMount(Strict):
    """A service's `configs` or `secrets` entry. The Compose stage fills in `file` (relative to
    the scenario folder) or `content` from the top-level declaration it names."""

    source: str
    target: str | None = None
    uid: str | int | None = None
    gid: str | int | None = None
    mode: int | str | None = None
    file: str | None = Field(default=None, description="filled from the top-level declaration")
    content: str | None = Field(default=None, description="filled from the top-level declaration")

    def path_in(self, kind: Literal["configs", "secrets"]) -> str:
        """Where the file lands: Compose's defaults (`/<name>`, `/run/secrets/<name>`)."""
        target = self.target or self.source
        if kind == "secrets" and not target.startswith("/"):
            return f"/run/secrets/{target}"
        return target if target.startswith("/") else f"/{target}"


Files = list[Annotated[FileMount, BeforeValidator(_short_file)]]
