"""The identity of a build's inputs, so an unchanged build is skipped rather than re-sent.

A build the engine's cache would answer entirely still costs a context upload and a cache
lookup per instruction (about 0.1 s for a small image, on the start-up's critical path). The
key covers what decides the engine's cache: every file of the context (names, executable bits,
contents), the Dockerfile, the build args, and the id of every image the Dockerfile builds
FROM. When an image labelled with the same key exists, it is the image the build would give.
Where the key cannot be known for sure (a FROM image that is not local, a FROM that depends on
an unset variable, an `ADD` of a URL or a git remote, whose content the engine re-checks), there
is no key, and the build runs as usual.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

LABEL = "io.poc-runner.build-key"
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", re.IGNORECASE)
_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?", re.IGNORECASE)
_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")

ImageId = Callable[[str], str | None]  # a reference -> the local image's id, or None


def build_key(
    context: Path,
    dockerfile: str,
    args: Mapping[str, str],
    image_id: ImageId,
    target: str | None = None,
) -> str | None:
    text = (context / dockerfile).read_text(encoding="utf-8", errors="replace")
    if _fetches(text):
        return None
    bases = _base_images(text, args)
    if bases is None:
        return None
    digest = hashlib.sha256()
    for reference in bases:
        found = image_id(reference)
        if found is None:
            return None
        digest.update(f"FROM {reference} {found}\n".encode())
    digest.update(f"DOCKERFILE {dockerfile}\n".encode() + text.encode())
    if target is not None:  # another stage of the same Dockerfile is another image
        digest.update(f"TARGET {target}\n".encode())
    for name, value in sorted(args.items()):
        digest.update(f"ARG {name}={value}\n".encode())
    _add_context(digest, context)
    return digest.hexdigest()


def _fetches(text: str) -> bool:
    """Whether an ADD takes a source the engine fetches (a URL, a git remote, in either form) or
    one a build variable may make so: as validation tells them (validation/builds.py)."""
    from poc_runner.validation.builds import fetched_source, instructions

    return any(
        instruction.split(None, 1)[0].upper() == "ADD" and fetched_source(instruction)
        for _line, _column, instruction in instructions(text)
    )


def _base_images(text: str, args: Mapping[str, str]) -> list[str] | None:
    """The images the Dockerfile builds FROM, variables resolved; None if one cannot be."""
    defaults: dict[str, str] = {}
    stages: set[str] = set()
    bases: list[str] = []
    for line in text.replace("\\\n", " ").splitlines():
        if (arg := _ARG.match(line)) and not bases:
            defaults[arg[1]] = args.get(arg[1], arg[2] or "")
        elif found := _FROM.match(line):
            reference = _VARIABLE.sub(lambda m: defaults.get(m[1], "\0"), found[1])
            if "\0" in reference or not reference:
                return None
            if reference.lower() not in stages and reference != "scratch":
                bases.append(reference)
            if found[2]:
                stages.add(found[2].lower())
    return bases


def _add_context(digest: hashlib._Hash, context: Path) -> None:
    for root, folders, files in os.walk(context):
        folders.sort()
        for name in sorted(files):
            path = Path(root, name)
            info = path.lstat()
            relative = path.relative_to(context).as_posix()
            executable = bool(info.st_mode & stat.S_IXUSR)
            digest.update(f"{relative}\0{executable}\0{info.st_size}\0".encode())
            if stat.S_ISREG(info.st_mode):
                digest.update(hashlib.sha256(path.read_bytes()).digest())
