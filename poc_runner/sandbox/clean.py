"""`poc clean`: what killed runs left, kept sandboxes, and on request the caches.

Two caches are kept between runs: the images poc-runner built and the data cache
(datacache.py). `--cache` removes the data cache; `--images`, asked to clear what poc-runner
keeps to go faster, removes both, so no filled data volume outlives the images it was made
beside."""

from __future__ import annotations

from typing import TYPE_CHECKING

from poc_runner.backends.docker import datacache
from poc_runner.backends.docker.sweep import Swept, remove_built_images, sweep

if TYPE_CHECKING:
    import docker


def clean(
    client: docker.DockerClient,
    *,
    images: bool = False,
    cache: bool = False,
    everyone: bool = False,
) -> Swept:
    """Sweep every run whose owner has ended (and this user's kept sandboxes; with `everyone`,
    others' too), then the caches asked for."""
    by = "`poc clean --all`" if everyone else "`poc clean`"
    swept = sweep(client, include_kept=True, everyone=everyone, by=by)
    if images:
        swept.merge(remove_built_images(client))
    if images or cache:
        swept.merge(datacache.remove_all(client))
    return swept
