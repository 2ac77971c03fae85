"""The Compose stage: the scenario's services, with its Compose files' merged under them.

Runs on the raw documents, before the models: each Compose file is read safely, interpolated
in Compose's dialect, its paths rebased onto the scenario folder and its services extended;
the files are merged in order, then the scenario's own `services:` over them, as
`docker compose -f a -f b` would. Services outside the active profiles are left out; each
service's environment is completed (env files, value-less entries); `configs` and `secrets`
entries learn the file or text their top-level declaration names. The merged services and
top-level volumes and networks replace the scenario's own, and every node placed records where
it was written, so later rules report problems in the Compose file that wrote them.

Values follow Compose's precedence: `--var` and `vars` (Compose's shell) over the project env
file, whose own references see them first; a service's `env_file` sees those, then the
service's `environment`, then the names set before. The merged services are copies (merge.py),
so what runs after the merge never changes a mapping the YAML shares between services; an
`extends` chain is at most MAX_EXTENDS services deep.
"""

from __future__ import annotations

import copy
from collections import ChainMap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from poc_runner.compose.dotenv import project_variables
from poc_runner.compose.environment import (
    EnvFileEntry,
    EnvFiles,
    env_file_entries,
    fill,
    valueless,
)
from poc_runner.compose.merge import Merger
from poc_runner.compose.origins import Origins, Side, Source
from poc_runner.compose.paths import default_context, rebased_file
from poc_runner.diagnostics import KeyPath
from poc_runner.interpolation import Budget, Interpolation, Values, interpolate, scalar_text
from poc_runner.loader import LoadError, parse, read_text
from poc_runner.model.compose import ComposeFile, ComposeFiles, ComposeRef
from poc_runner.validation.findings import Findings, did_you_mean
from poc_runner.validation.keys import check_keys
from poc_runner.validation.structure import check_model

_REFERENCE: TypeAdapter[Any] = TypeAdapter(ComposeRef)
MAX_EXTENDS = 32  # services in one `extends` chain
_DECLARED = ("configs", "secrets")
_IGNORED_TOP = {
    "version": "`version` is ignored: Compose itself no longer reads it",
    "name": "`name` is ignored: each run names its own objects, so runs never collide",
}


@dataclass
class Composition:
    """What the stage learnt besides the merged services."""

    interpolation: Interpolation = field(default_factory=Interpolation)
    left_out: dict[str, list[str]] = field(default_factory=dict)  # service -> its profiles


@dataclass
class _Document:
    """One file of services: a Compose file, or the scenario itself."""

    relative: str
    source: Source
    data: dict[str, Any]

    @property
    def services(self) -> dict[str, Any]:
        services = self.data.get("services")
        return services if isinstance(services, dict) else {}


def compose_services(
    data: dict[str, Any],
    scenario: Path,
    findings: Findings,
    variables: dict[str, str],
    secrets: dict[str, str | None],
    references: list[KeyPath],
) -> Composition:
    """Merge the Compose files `data` names, and the scenario's services over them, in place.
    `variables` are --var over `vars`; the env file fills in below them."""
    return _Stage(data, scenario, findings, variables, secrets).run(references)


class _Stage:
    def __init__(
        self,
        data: dict[str, Any],
        scenario: Path,
        findings: Findings,
        variables: dict[str, str],
        secrets: dict[str, str | None],
    ) -> None:
        self.data, self.findings = data, findings
        self.root = scenario.parent.resolve()
        self.shown = Path(findings.file).parent
        self.scenario = _Document("", Source(findings.file, findings.source_map), data)
        self.given, self.secrets = variables, secrets
        self.values = Values(variables, secrets)
        self.budget = Budget()
        self.result = Composition(Interpolation(budget=self.budget))
        self.documents: dict[str, _Document | None] = {}
        self.extended: dict[tuple[str, str], tuple[dict[str, Any], Side]] = {}
        self.merger = Merger(findings.origins)
        self.depths: dict[tuple[str, str], int] = {}  # services below each in its chain
        self.too_deep = False  # an `extends` chain past MAX_EXTENDS was reported
        self.broken: set[tuple[str, str]] = set()  # services whose `extends` chain failed
        self.unextended: set[str] = set()  # their names (the failure is reported)

    def run(self, references: list[KeyPath]) -> Composition:
        _strip_extensions(self.data)
        spec = self._reference()
        if spec is not None:
            self.values = Values({**self._env_file(spec), **self.given}, self.secrets)
        own = [path for path in references if path[:1] == ("services",)]
        self._interpolate(self.scenario, own)
        files = self._files(spec) if spec else ()
        documents = [self._load(name, at, self.findings) for name, at in files]
        composed = [doc for doc in documents if doc is not None]
        if isinstance(self.data.get("services", {}), dict):
            self._merge([*composed, self.scenario])
            project = str(Path(spec.files[0]).parent) if spec else "."
            for name, service in self.scenario.services.items():
                if isinstance(service, dict):
                    default_context(service, project)
                if name in self.unextended:  # what the base would have given is missing
                    self.findings.explain(("services", name))
        self._leave_out(spec.profiles if spec else [])
        if spec is not None:
            self._top_level(composed)
            self._declarations(composed)
        for name, service in self.scenario.services.items():
            if isinstance(service, dict):
                self._complete_environment(name, service)
        return self.result

    def _reference(self) -> ComposeFiles | None:
        """The `compose:` value as the long form; None when absent or malformed (the models
        report what is wrong with it)."""
        if self.data.get("compose") is None:
            return None
        try:
            spec = ComposeFiles.of(_REFERENCE.validate_python(self.data["compose"]))
        except ValidationError:
            return None
        return spec

    def _files(self, spec: ComposeFiles) -> Iterator[tuple[str, KeyPath]]:
        written = self.data["compose"]
        for index, name in enumerate(spec.files):
            if isinstance(written, str):
                yield name, ("compose",)
            elif isinstance(written, list):
                yield name, ("compose", index)
            else:
                yield name, ("compose", "files", index)

    def _env_file(self, spec: ComposeFiles) -> dict[str, str]:
        """The project's env file: `env_file`, else `.env` beside the first file, if there."""
        if spec.env_file is not None:
            at: KeyPath = ("compose", "env_file")
            relative, required = spec.env_file, True
        else:
            at, required = ("compose",), False
            relative = str(Path(spec.files[0]).parent / ".env")
        read = self._env_files().read(relative, at, required=required)
        return project_variables(read[0]) if read else {}

    def _env_files(self) -> EnvFiles:
        return EnvFiles(self.root, self.shown, self.findings, self.values, self.budget)

    def _load(self, relative: str, at: KeyPath, referrer: Findings) -> _Document | None:
        """A Compose file, read once: checked at its top level, interpolated, rebased.
        Problems finding it are reported at `at` in the `referrer`'s file."""
        relative = str(Path(relative))
        if relative in self.documents:
            return self.documents[relative]
        self.documents[relative] = None
        target = (self.root / relative).resolve()
        if not (target == self.root or self.root in target.parents):
            referrer.error(
                at,
                f"{relative!r} leads outside the scenario folder; keep the Compose files in it",
                "path-escape",
            )
            return None
        shown = str(self.shown / relative)
        try:
            document = parse(read_text(target))
        except LoadError as exc:
            message = f"Compose file {relative!r}: {exc.message}"
            if exc.rule == "file":
                referrer.error(at, message, "missing-file")
            else:
                empty = exc.message.startswith("the file is empty")
                said = (
                    "the Compose file is empty; it starts with `services:`"
                    if empty
                    else exc.message
                )
                self.findings.add(exc.mark, (), said, exc.rule, file=shown)
            return None
        source = Source(shown, document.source_map)
        here = self.findings.about(source)
        for problem in document.problems:
            here.add(problem.mark, problem.path, problem.message, problem.rule)
        if not isinstance(document.data, dict):
            here.error((), "a Compose file is a mapping with `services:` at its top", "schema")
            return None
        _strip_extensions(document.data)
        loaded = _Document(relative, source, document.data)
        self._interpolate(loaded, document.references)
        keys = check_keys(document.data, here, ComposeFile)
        check_model(ComposeFile, document.data, here, keys)
        folder = str(Path(relative).parent)
        loaded.data = rebased_file(document.data, "" if folder == "." else folder)
        self.documents[relative] = loaded
        return loaded

    def _interpolate(self, document: _Document, references: list[KeyPath]) -> None:
        filled = interpolate(
            document.data,
            references,
            self.values,
            compose=True,
            result=Interpolation(budget=self.budget),
        )
        here = self.findings.about(document.source)
        for where, message in filled.problems:
            here.error(where, message, "undefined-var")
            here.explain(where)
        self.result.interpolation.absorb(filled)

    def _merge(self, documents: list[_Document]) -> None:
        merged: dict[str, Any] = {}
        for document in documents:
            for name, written in document.services.items():
                if not isinstance(written, dict):
                    merged[name] = written  # the models say what is wrong with it
                    continue
                tree, side = self._extended(document, name, ())
                path: KeyPath = ("services", name)
                if not isinstance(merged.get(name), dict):
                    merged[name] = {}
                    self.findings.origins.record(path, *side.locate(path))
                self.merger.service(merged[name], tree, path, side, path)
        self.data["services"] = merged

    def _extended(
        self, document: _Document, name: str, trail: tuple[tuple[str, str], ...]
    ) -> tuple[dict[str, Any], Side]:
        """Service `name` of `document` with its `extends` resolved, and where its parts were
        written."""
        key = (document.relative, name)
        if key in self.extended:
            return self.extended[key]
        service = document.services[name]
        own = Side(document.source)
        extends = service.get("extends")
        found = self._base(document, name, extends, trail) if extends is not None else None
        self.depths[key] = 0 if found is None else self.depths[found[3]] + 1
        if extends is not None and (found is None or found[3] in self.broken):
            self.broken.add(key)  # and every service that extends it, through it
            self.unextended.add(name)
        if found is None:
            result = ({k: v for k, v in service.items() if k != "extends"}, own)
        else:
            base, base_side, base_name, _ = found
            origins = Origins()
            merger = Merger(origins)
            path: KeyPath = ("services", name)
            tree: dict[str, Any] = {}
            merger.service(tree, base, path, base_side, ("services", base_name))
            rest = {k: v for k, v in service.items() if k != "extends"}
            merger.service(tree, rest, path, own, path)
            result = (tree, Side(document.source, origins))
        self.extended[key] = result
        return result

    def _base(
        self,
        document: _Document,
        name: str,
        extends: Any,
        trail: tuple[tuple[str, str], ...],
    ) -> tuple[dict[str, Any], Side, str, tuple[str, str]] | None:
        here = self.findings.about(document.source)
        at: KeyPath = ("services", name, "extends")
        if isinstance(extends, str):
            base_name, other = extends, None
        elif isinstance(extends, dict) and isinstance(extends.get("service"), str):
            base_name, other = extends["service"], extends.get("file")
        elif isinstance(extends, dict):
            written = extends.get("file")
            where = f" in {written!r}" if isinstance(written, str) else ""
            here.error(
                at,
                f"`extends` names no `service`: write the name of the service{where} that"
                f" {name!r} extends",
                "extends",
                fix=f"extends:\n  file: {written if isinstance(written, str) else '...'}"
                "\n  service: ...",
            )
            return None
        else:
            return None  # the models say what is wrong with it
        if len(trail) >= MAX_EXTENDS:
            self._too_deep(here, at, name)
            return None
        target = self._load(other, (*at, "file"), here) if isinstance(other, str) else document
        if target is None:
            return None
        if base_name not in target.services or not isinstance(target.services[base_name], dict):
            choices = list(target.services)
            here.error(
                at,
                f"no service named {base_name!r} to extend{did_you_mean(base_name, choices)};"
                f" services there: {', '.join(choices) or 'none'}",
                "reference",
            )
            return None
        if (target.relative, base_name) in (*trail, (document.relative, name)):
            here.error(at, f"service {name!r} extends itself through {base_name!r}", "extends")
            return None
        base_key = (target.relative, base_name)
        base, side = self._extended(target, base_name, (*trail, (document.relative, name)))
        if self.depths[base_key] >= MAX_EXTENDS:
            self._too_deep(here, at, name)
            return None
        return base, side, base_name, base_key

    def _too_deep(self, here: Findings, at: KeyPath, name: str) -> None:
        """An `extends` chain past MAX_EXTENDS: said once, where it was found."""
        if not self.too_deep:
            self.too_deep = True
            here.error(
                at,
                f"the `extends` chain through {name!r} is more than {MAX_EXTENDS} services deep;"
                " extend a service that holds the settings itself",
                "extends",
            )

    def _leave_out(self, active: list[str]) -> None:
        """Services whose `profiles` name none of the active ones are not part of the run."""
        services = self.scenario.services
        for name, service in list(services.items()):
            profiles = service.get("profiles") if isinstance(service, dict) else None
            if (
                isinstance(profiles, list)
                and profiles
                and not set(map(str, profiles)) & set(active)
            ):
                self.result.left_out[name] = [str(p) for p in profiles]
                del services[name]

    def _top_level(self, documents: list[_Document]) -> None:
        """Top-level volumes and networks of every file, merged (the scenario's own last);
        `version` and `name` said once to be ignored."""
        for section in ("volumes", "networks"):
            merged: dict[str, Any] = {}
            for document in [*documents, self.scenario]:
                declared = document.data.get(section)
                for name, value in declared.items() if isinstance(declared, dict) else ():
                    path: KeyPath = (section, name)
                    if document is not self.scenario:
                        self.findings.origins.record(path, document.source, path)
                    merged[name] = value
            if merged:
                self.data[section] = merged
        for key, message in _IGNORED_TOP.items():
            written = next((d for d in documents if key in d.data), None)
            if written is not None:
                here = self.findings.about(written.source)
                here.warning((key,), message, "ignored", at_key=True)

    def _declarations(self, documents: list[_Document]) -> None:
        """Each service's `configs` and `secrets` entries, given the file or text of the
        top-level declaration they name."""
        declared: dict[str, dict[str, tuple[Any, _Document]]] = {k: {} for k in _DECLARED}
        for document in documents:
            for kind in _DECLARED:
                section = document.data.get(kind)
                for name, value in section.items() if isinstance(section, dict) else ():
                    declared[kind][name] = (value, document)
        for service_name, service in self.scenario.services.items():
            for kind in _DECLARED:
                entries = service.get(kind) if isinstance(service, dict) else None
                if not isinstance(entries, list):
                    continue
                for index, entry in enumerate(entries):
                    at: KeyPath = ("services", service_name, kind, index)
                    resolved = self._declared(kind, entry, declared[kind], at)
                    if resolved is not None:
                        entries[index] = resolved

    def _declared(
        self,
        kind: str,
        entry: Any,
        declared: dict[str, tuple[Any, _Document]],
        at: KeyPath,
    ) -> dict[str, Any] | None:
        long = {"source": entry} if isinstance(entry, str) else entry
        if not isinstance(long, dict) or not isinstance(long.get("source"), str):
            return None
        name, singular = long["source"], kind[:-1]
        if name not in declared:
            self.findings.error(
                at,
                f"no {singular} named {name!r} is declared at the top level of the Compose"
                f" files{did_you_mean(name, declared)}",
                "reference",
                fix=f"{kind}:\n  {name}:\n    file: ./{name}.txt",
            )
            self.findings.explain(at)
            return None
        value, document = declared[name]
        value = value if isinstance(value, dict) else {}
        here = self.findings.about(document.source)
        where: KeyPath = (kind, name)
        if value.get("external"):
            here.error(
                where,
                f"external {singular} {name!r} lives in a Docker swarm, outside the scenario;"
                " give it a `file:` in the scenario folder",
                "unsupported",
            )
            self.findings.explain(at)
            return None
        if isinstance(value.get("file"), str):
            self.findings.origins.record((*at, "file"), document.source, (*where, "file"))
            return {**long, "file": value["file"]}
        if isinstance(value.get("content"), str):
            return {**long, "content": value["content"]}
        variable = value.get("environment")
        if isinstance(variable, str):
            known = self._value_of(variable)
            if known is not None:
                return {**long, "content": known}
            here.error(
                (*where, "environment"),
                f"{variable!r} has no value: set it with `--var {variable}=...`, under `vars`,"
                " or list it under the scenario's `secrets`",
                "undefined-var",
            )
        else:
            here.error(where, f"{singular} {name!r} needs a `file:`", "missing-key")
        self.findings.explain(at)
        return None

    def _complete_environment(self, name: str, service: dict[str, Any]) -> None:
        """`env_file`s under `environment`, then value-less entries filled or left out."""
        path: KeyPath = ("services", name, "environment")
        files = env_file_entries(service.get("env_file"))
        if files:
            service["environment"] = self._with_env_files(name, service, files)
        environment = service.get("environment")
        for below, variable in reversed(valueless(environment)):
            value = self._value_of(variable)
            if value is not None:
                fill(environment, below, variable, value)
            else:
                self.findings.warning(
                    (*path, *below),
                    f"{variable!r} has no value, so it is left unset (as Compose does when the"
                    f" shell lacks it): set it with `--var {variable}=...`, under `vars`, or in"
                    " the env file",
                    "unset-env",
                    fix=f"{variable}=...",
                )
                self._drop(environment, path, below)

    def _value_of(self, variable: str) -> str | None:
        """A variable's value; a listed secret's (`${NAME}` while validating without it)."""
        value = self.values.variables.get(variable)
        if value is None and variable in self.secrets:
            value = self.secrets[variable] or f"${{{variable}}}"
        return value

    def _drop(self, environment: Any, path: KeyPath, below: KeyPath) -> None:
        """Leave an entry out; entries after a removed list entry move up, with their origins."""
        if isinstance(environment, dict):
            del environment[below[0]]
            return
        origins = self.findings.origins
        index = int(below[0])
        for later in range(index + 1, len(environment)):
            source, written = self.findings.locate((*path, later))
            origins.record((*path, later - 1), source, written)
        del environment[index]

    def _with_env_files(self, name: str, service: dict[str, Any], files: list[EnvFileEntry]) -> Any:
        """The service's env files under its `environment`. References in the files see the
        scenario's values first, then the service's `environment`, then what the files set
        before them (compose-go's WithServicesEnvironmentResolved)."""
        path: KeyPath = ("services", name, "environment")
        origins: dict[str, tuple[Source, KeyPath]] = {}
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            written = {str(item).partition("=")[0]: i for i, item in enumerate(environment)}
            for key, i in written.items():
                origins[key] = self.findings.locate((*path, i))
            environment = {
                key: (text if sep else None)
                for key, sep, text in (str(item).partition("=") for item in environment)
            }
        elif isinstance(environment, dict):
            for key in environment:
                origins[key] = self.findings.locate((*path, key))
        own: dict[str, str] = {}
        for key, value in environment.items() if isinstance(environment, dict) else ():
            text = self._value_of(str(key)) if value is None else scalar_text(value)
            if text is not None:
                own[str(key)] = text
        given = ChainMap(dict(self.values.variables), own)
        values: dict[str, str] = {}
        reader = self._env_files()
        for index, relative, required, raw in files:
            at: KeyPath = ("services", name, "env_file", *(() if index is None else (index,)))
            read = reader.read(relative, at, required=required, given=given, known=values, raw=raw)
            if read is not None:
                values.update(read[0].values)
                origins.update({key: (read[1], (key,)) for key in read[0].values})
        combined = {**values, **environment} if isinstance(environment, dict) else environment
        for key, (source, where) in origins.items():
            if isinstance(combined, dict) and key in combined:
                self.findings.origins.record((*path, key), source, where)
        return combined


def _strip_extensions(data: dict[str, Any]) -> None:
    """`x-*` keys, at the top and in services, hold anchors and tools' settings: ignored. The
    services become a copy of their own without them: what YAML anchors share with the rest of
    the file (a scenario's steps, say) is filled in another dialect there, and must not see
    Compose's filling (`$${X}` made `${X}` by one, then read as a reference by the other)."""
    for key in [k for k in data if isinstance(k, str) and k.startswith("x-")]:
        del data[key]
    services = data.get("services")
    if isinstance(services, dict):
        data["services"] = copy.deepcopy(
            {
                name: _without_extensions(service) if isinstance(service, dict) else service
                for name, service in services.items()
            }
        )


def _without_extensions(service: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in service.items() if not (isinstance(k, str) and k.startswith("x-"))}
