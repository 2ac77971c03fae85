"""The scenario's `compose:` and the top level of a Compose file (spec, "compose").

A Compose file's services are merged into the scenario's before the models read them (see
poc_runner/compose/); what is modelled here is how a scenario names its files, and the
top-level sections of a Compose file, each checked in its own file.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from poc_runner.model.services import Ignored
from poc_runner.model.types import ScenarioPath, Strict, error, shape_of


def _some(files: list[str]) -> list[str]:
    if not files:
        raise error("empty", "name at least one Compose file")
    return files


class ComposeFiles(Strict):
    """The long form: files merged in order, the profiles that are on, and the env file."""

    files: Annotated[list[ScenarioPath], AfterValidator(_some)]
    profiles: list[str] = Field(default_factory=list)
    env_file: ScenarioPath | None = None  # default: `.env` beside the first file, if there

    @classmethod
    def of(cls, reference: ComposeRef) -> ComposeFiles:
        """Any of the three spellings as the long form."""
        if isinstance(reference, ComposeFiles):
            return reference
        files = [reference] if isinstance(reference, str) else reference
        return cls.model_construct(files=files, profiles=[], env_file=None)


ComposeRef = Annotated[
    Annotated[ScenarioPath, Tag("<text>")]
    | Annotated[list[ScenarioPath], AfterValidator(_some), Tag("<list>")]
    | Annotated[ComposeFiles, Tag("<mapping>")],
    Discriminator(
        shape_of,
        custom_error_type="shape",
        custom_error_message="expected a Compose file, a list of them, or {files, profiles,"
        " env_file}",
    ),
]


class NamedVolume(Strict):
    """A top-level volume: a fresh one per run, whatever its driver says."""

    driver: Ignored = None
    driver_opts: dict[str, Any] = Field(default_factory=dict)
    external: bool | dict[str, Any] = False
    labels: Ignored = None
    name: Ignored = None

    @model_validator(mode="after")
    def _not_a_host_folder(self) -> NamedVolume:
        options = {str(k): str(v) for k, v in self.driver_opts.items()}
        if "device" in options or "bind" in options.get("o", "").split(","):
            raise error(
                "security",
                "a volume whose driver options name a device or a bind is a folder of the"
                " host; the sandbox never mounts host paths",
            )
        return self


class DeclaredFile(Strict):
    """A top-level config or secret: a file of the scenario folder, or text."""

    file: ScenarioPath | None = None
    content: str | None = None
    environment: str | None = None
    external: Ignored = None
    name: Ignored = None
    labels: Ignored = None
    driver: Ignored = None
    template_driver: Ignored = None


class ComposeFile(Strict):
    """The top level of one Compose file; its services are read after merging (model Service)."""

    version: Ignored = None
    name: Ignored = None
    services: dict[str, Any] = Field(default_factory=dict)  # the rest: read once merged, in
    volumes: dict[str, Any] = Field(default_factory=dict)  # the scenario model
    networks: dict[str, Any] = Field(default_factory=dict)
    configs: dict[str, DeclaredFile | None] = Field(default_factory=dict)
    secrets: dict[str, DeclaredFile | None] = Field(default_factory=dict)
