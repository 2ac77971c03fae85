"""What `poc setup` is asked for (`Request`, checked as it is made) and what it made (`Made`),
the records that cross the seam to the engine that makes the images (backend.Engine.set_up)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from poc_runner.errors import InvalidInput
from poc_runner.setup import IMAGES, PREFIX

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
