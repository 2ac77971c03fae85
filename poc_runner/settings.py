"""Every `POC_*` setting poc-runner reads from the environment, and the state folder: read here
and nowhere else, so one page says what can be set and what each means.

Read when asked, never cached at import: a long-lived caller of the Python API (or a test) may
change one between two runs, and the next run must see it. The engine's own variables
(DOCKER_HOST, DOCKER_CONTEXT, ...) are the Docker backend's, read as the docker CLI reads them.
"""

from __future__ import annotations

import os
from pathlib import Path

DEBUG = "POC_DEBUG"  # set: an internal error shows its traceback
STATE_DIR = "POC_STATE_DIR"  # where the history, the hash index, notes and locks live
HISTORY = "POC_HISTORY"  # the run history's file
HELPER_IMAGE = "POC_HELPER_IMAGE"  # the image poc-runner's own helper containers run from
DATA_CACHE_MAX = "POC_DATA_CACHE_MAX"  # what the data cache may hold (20g by default)
ENGINE_INSECURE = "POC_ENGINE_INSECURE"  # =1: an engine reached over TLS without checking it
DEBIAN_MIRROR = "POC_DEBIAN_MIRROR"  # the mirror `poc setup` makes the base image from


def debug() -> bool:
    return bool(os.environ.get(DEBUG))


def state_dir() -> Path:
    """Where poc-runner keeps its state (the run history, the data hash index, removal notes,
    the locks of `poc up`): $POC_STATE_DIR, else $XDG_STATE_HOME/poc-runner, else
    ~/.local/state/poc-runner."""
    explicit = os.environ.get(STATE_DIR)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "poc-runner"


def history_path() -> Path:
    """The history file: $POC_HISTORY, else history.sqlite in the state folder."""
    explicit = os.environ.get(HISTORY)
    if explicit:
        return Path(explicit).expanduser()
    return state_dir() / "history.sqlite"


def helper_image() -> str | None:
    """The image named for poc-runner's helpers, if one is (else the backend's own base)."""
    return os.environ.get(HELPER_IMAGE) or None


def data_cache_max() -> str | None:
    """The data cache's cap as written ("20g"), if one is set."""
    return os.environ.get(DATA_CACHE_MAX) or None


def engine_insecure() -> bool:
    return os.environ.get(ENGINE_INSECURE) == "1"
