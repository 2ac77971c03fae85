"""Paths in a Compose file are relative to that file's folder (as in Compose); the scenario's
are relative to the scenario folder. Before files are merged, each file's paths are rewritten
relative to the scenario folder, so the rest of poc-runner knows one folder only.

A path that would climb out of the scenario folder is left as written: the rules that refuse
it then quote what its author wrote.
"""

from __future__ import annotations

import posixpath
from typing import Any

from pydantic_core import PydanticCustomError

from poc_runner.model.volumes import short_volume


def rebase(base: str, path: str) -> str:
    """`path`, written in a file of folder `base` (relative to the scenario folder), relative to
    the scenario folder; unchanged when absolute or when it would leave the folder."""
    if not base or path.startswith(("/", "~", "\\")):
        return path
    joined = posixpath.normpath(posixpath.join(base, path))
    return path if joined == ".." or joined.startswith("../") else joined


def rebase_file(data: dict[str, Any], base: str) -> None:
    """Every path of one Compose file's services and top-level files, in place."""
    if not base:
        return
    services = data.get("services")
    for service in services.values() if isinstance(services, dict) else ():
        if isinstance(service, dict):
            rebase_service(service, base)
    for section in ("configs", "secrets"):
        declared = data.get(section)
        for item in declared.values() if isinstance(declared, dict) else ():
            if isinstance(item, dict) and isinstance(item.get("file"), str):
                item["file"] = rebase(base, item["file"])


def rebase_service(service: dict[str, Any], base: str) -> None:
    build = service.get("build")
    if isinstance(build, str):
        service["build"] = rebase(base, build)
    elif isinstance(build, dict):
        build["context"] = rebase(base, str(build.get("context", ".")))
    service["env_file"] = _env_files(service.get("env_file"), base)
    if service["env_file"] is None:
        del service["env_file"]
    volumes = service.get("volumes")
    if isinstance(volumes, list):
        service["volumes"] = [_volume(entry, base) for entry in volumes]
    extends = service.get("extends")
    if isinstance(extends, dict) and isinstance(extends.get("file"), str):
        extends["file"] = rebase(base, extends["file"])


def _env_files(value: Any, base: str) -> Any:
    if isinstance(value, str):
        return rebase(base, value)
    if isinstance(value, list):
        return [_env_files(item, base) for item in value]
    if isinstance(value, dict) and isinstance(value.get("path"), str):
        return {**value, "path": rebase(base, value["path"])}
    return value


def _volume(entry: Any, base: str) -> Any:
    """A bind mount's relative source, rebased (`./...`, so Compose still reads it as a path)."""
    if isinstance(entry, dict):
        source = entry.get("source")
        if entry.get("type") == "bind" and isinstance(source, str):
            return {**entry, "source": _bind_source(base, source)}
        return entry
    try:
        long = short_volume(entry)
    except PydanticCustomError:
        return entry  # refused later, as written
    source = long.get("source") if isinstance(long, dict) else None
    if long.get("type") != "bind" or not isinstance(source, str) or source[:1] != ".":
        return entry
    return _bind_source(base, source) + str(entry)[len(source) :]


def _bind_source(base: str, source: str) -> str:
    rebased = rebase(base, source)
    if rebased == source or rebased.startswith(("/", ".")):
        return rebased
    return f"./{rebased}"
