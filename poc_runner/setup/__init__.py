"""`poc setup`: the images a sandbox needs, made on this machine's engine, with no registry.

Three images, each kept by its tag: made once, found at once after that.

- The base, `poc-runner/base:bookworm`: Debian bookworm with python3. poc-runner's helper
  containers run from it and the example scenarios build FROM it. Made from Debian's packages
  (debootstrap, then imported into the engine: debian.py) or, with `--from-registry`, from a
  registry image with python3 added (build.py).
- The PostgreSQL stand-in, `poc-runner/postgres:bookworm`, built FROM the base out of the
  folder the package ships (poc_runner/images/postgres).
- The network holders' pause image, `poc-runner/pause:1`: a few bytes made here
  (poc_runner/backends/docker/holder.py); a run also makes it on first use.

Only names and the records of a request live here, so that the `poc` command names them in its
help without loading more; making the images is the engine's (backend.Engine.set_up: for
Docker, backends/docker/setup/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from poc_runner.errors import InvalidInput

PREFIX = "poc-runner"
REGISTRY_BASE = "debian:bookworm-slim"  # `poc setup --from-registry` with no image named
IMAGES = ("base", "postgres", "pause")  # in the order they are made: postgres builds FROM base
_NAMES = {"base": "base:bookworm", "postgres": "postgres:bookworm", "pause": "pause:1"}


def tag_of(image: str, prefix: str = PREFIX) -> str:
    """The tag of one of `IMAGES` under a prefix: `poc-runner/base:bookworm` by default."""
    return f"{prefix}/{_NAMES[image]}"


# A repository path as Docker takes it: lowercase parts, optionally after a registry's host.
_PREFIX = re.compile(
    r"(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)


@dataclass(frozen=True)
class Request:
    """What `poc setup` was asked for."""

    images: tuple[str, ...] = IMAGES  # which of IMAGES; postgres brings the base along
    prefix: str = PREFIX  # the images are tagged PREFIX/base:bookworm, ...
    registry_base: str | None = None  # make the base from this registry image, not debootstrap
    mirror: str | None = None  # the Debian mirror debootstrap downloads from
    rebuild: bool = False  # make the base and PostgreSQL images even where their tags exist

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.prefix):
            raise InvalidInput(
                f"--prefix {self.prefix!r} cannot start an image name: lowercase letters,"
                " digits, and `.`, `_`, `-` or `/` between them (poc-runner, or my-team/poc)"
            )


@dataclass(frozen=True)
class Made:
    """One image: its tag, its id (None when it could not be made here), and what was done."""

    tag: str
    image_id: str | None
    note: str
