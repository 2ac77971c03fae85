"""The engines a sandbox runs on, behind the seam (backend.py), as tox registers its
environments: by name, each loaded only when asked for.

- `docker`: a Docker engine, local or remote (backends/docker/), the default;
- `fake`: an engine in memory with scripted outcomes, for tests (backends/fake.py).

A new engine (a Kubernetes cluster, Podman) is a package here implementing backend.Engine and
backend.Sandbox, added to ENGINES; docs/architecture.md says what each method must do.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from poc_runner.backend import Engine

ENGINES: dict[str, str] = {  # name -> "module:factory", the factory called with no arguments
    "docker": "poc_runner.backends.docker:DockerEngine",
    "fake": "poc_runner.backends.fake:FakeEngine",
}
DEFAULT = "docker"


def engine(name: str = DEFAULT) -> Engine:
    """A new engine of that kind (nothing is asked of it until a command needs it)."""
    module, _, factory = ENGINES[name].partition(":")
    made: Callable[[], Engine] = getattr(import_module(module), factory)
    return made()


def default_engine() -> Engine:
    return engine(DEFAULT)
