"""Paths in a Compose file are relative to that file's folder (as in Compose); the scenario's
are relative to the scenario folder. Before files are merged, each file's paths are rewritten
relative to the scenario folder, so the rest of poc-runner knows one folder only.

A path that would climb out of the scenario folder is left as written: the rules that refuse
it then quote what its author wrote. Rewriting never changes a mapping in place: YAML anchors
let several services share one `build:` (or one declaration), and a shared mapping rebased once
per service that holds it would climb further each time (`stack/stack/api`). Changed services
and declarations are new mappings; what they share and do not change stays shared.

A `build` that names no context gets none here: after merging, the merged service takes the
project folder (`default_context`), as Compose gives it the project's working folder.
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


def rebased_file(data: dict[str, Any], base: str) -> dict[str, Any]:
    """One Compose file's top level with every path of its services and top-level files
    rebased; the file's own mappings are left as they were."""
    if not base:
        return data
    result = dict(data)
    services = data.get("services")
    if isinstance(services, dict):
        result["services"] = {
            name: rebased_service(service, base) if isinstance(service, dict) else service
            for name, service in services.items()
        }
    for section in ("configs", "secrets"):
        declared = data.get(section)
        if isinstance(declared, dict):
            result[section] = {name: _declared(item, base) for name, item in declared.items()}
    return result


def _declared(item: Any, base: str) -> Any:
    if isinstance(item, dict) and isinstance(item.get("file"), str):
        return {**item, "file": rebase(base, item["file"])}
    return item


def rebased_service(service: dict[str, Any], base: str) -> dict[str, Any]:
    result = dict(service)
    build = service.get("build")
    if isinstance(build, str):
        result["build"] = rebase(base, build)
    elif isinstance(build, dict) and isinstance(build.get("context"), str):
        result["build"] = {**build, "context": rebase(base, build["context"])}
    if "env_file" in service:
        result["env_file"] = _env_files(service["env_file"], base)
    volumes = service.get("volumes")
    if isinstance(volumes, list):
        result["volumes"] = [_volume(entry, base) for entry in volumes]
    extends = service.get("extends")
    if isinstance(extends, dict) and isinstance(extends.get("file"), str):
        result["extends"] = {**extends, "file": rebase(base, extends["file"])}
    return result


def default_context(service: dict[str, Any], project: str) -> None:
    """A merged service's `build` without a context builds the project folder (as Compose).
    The service is the merge's own copy."""
    build = service.get("build")
    if isinstance(build, dict) and "context" not in build:
        service["build"] = {"context": project or ".", **build}


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
