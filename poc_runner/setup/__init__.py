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

Only names live here, so that the `poc` command names them in its help without loading more;
what `poc setup` is asked for and what it made are records in request.py; making the images is
the engine's (backend.Engine.set_up: for Docker, backends/docker/setup/).
"""

from __future__ import annotations

PREFIX = "poc-runner"
REGISTRY_BASE = "debian:bookworm-slim"  # `poc setup --from-registry` with no image named
IMAGES = ("base", "postgres", "pause")  # in the order they are made: postgres builds FROM base
_NAMES = {"base": "base:bookworm", "postgres": "postgres:bookworm", "pause": "pause:1"}


def tag_of(image: str, prefix: str = PREFIX) -> str:
    """The tag of one of `IMAGES` under a prefix: `poc-runner/base:bookworm` by default."""
    return f"{prefix}/{_NAMES[image]}"
