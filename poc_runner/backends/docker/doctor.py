"""`poc doctor` on a Docker engine: how it is reached, what it is, its limits, the images of
`poc setup`, the sandboxes on it."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from poc_runner.backends.docker.client import connect, link, read_info
from poc_runner.backends.docker.images import local_image_id
from poc_runner.backends.docker.netprobe import dns_fixed
from poc_runner.backends.docker.objects import container_rows
from poc_runner.doctor import ENGINE, Finding, Status
from poc_runner.errors import PocError
from poc_runner.sandbox import labels
from poc_runner.setup import IMAGES, tag_of

if TYPE_CHECKING:
    import docker


def diagnose() -> list[Finding]:
    fine, how = link()  # said before connecting: which client and address were tried
    findings = [_docker_cli(), Finding("ok" if fine else "warn", "engine link", how)]
    try:
        client = connect(timeout=10)
    except PocError as exc:
        return [*findings, Finding("missing", ENGINE, str(exc))]
    info = client.info()
    engine = read_info(client, info)
    where = f"{engine.address}, {'remote: ' if engine.remote else ''}machine {engine.name}"
    findings.append(
        Finding(
            "ok",
            ENGINE,
            f"{engine.version} (API {engine.api_version}), {engine.os}, at {where}",
        )
    )
    findings.append(_dns_advisory(engine.version))
    for key, what in (("MemoryLimit", "memory limits"), ("PidsLimit", "process limits")):
        supported = info.get(key, True)
        findings.append(
            Finding(
                "ok" if supported else "warn",
                what,
                "enforced" if supported else "not supported by this kernel: not enforced",
            )
        )
    stronger = sorted(set(engine.runtimes) & {"runsc", "sysbox-runc"})
    findings.append(
        Finding(
            "ok",
            "container runtimes",
            ", ".join(engine.runtimes)
            + (f" (stronger isolation available: {', '.join(stronger)})" if stronger else ""),
        )
    )
    findings.extend(_images(client))
    leftovers = container_rows(client, [labels.RUN])
    findings.append(
        Finding(
            "ok" if not leftovers else "warn",
            "sandboxes",
            f"{len(leftovers)} poc-runner container(s) exist"
            + (" (`poc clean` removes those of runs that ended)" if leftovers else ""),
        )
    )
    return findings


def _docker_cli() -> Finding:
    found = shutil.which("docker")
    if found:
        return Finding("ok", "docker CLI", found)
    return Finding("warn", "docker CLI", "not on PATH: only `poc shell` needs it")


def _dns_advisory(version: str) -> Finding:
    """The engine's versions as the isolation check places them (netprobe.lookup_leaks)."""
    fixed = dns_fixed(version)
    if fixed is None:
        return Finding("warn", "engine DNS", f"cannot read engine version {version!r}")
    if fixed:
        return Finding("ok", "engine DNS", "internal networks do not forward DNS")
    return Finding(
        "warn",
        "engine DNS",
        f"engine {version} predates the fix for CVE-2024-29018 (Docker 26.0.0, 25.0.4 and"
        " 23.0.11): where this machine's resolver is on its loopback, a sandbox's name lookups"
        " leave the machine through it, and the isolation check is then not met; upgrade when"
        " you can",
    )


def _images(client: docker.DockerClient) -> list[Finding]:
    """The images `poc setup` makes: the base is needed by every run, the others not always."""
    missing: dict[str, tuple[Status, str]] = {
        "base": ("missing", "the helpers run from it and the examples build FROM it"),
        "postgres": ("warn", "only scenarios that use it need it"),
        "pause": ("ok", "the first run that needs it makes it"),
    }
    findings = []
    for image in IMAGES:
        tag = tag_of(image)
        found = local_image_id(client, tag)
        if found is None:
            status, why = missing[image]
            detail = f"{tag} is not here: `poc setup` makes it ({why})"
            findings.append(Finding(status, f"{image} image", detail))
        else:
            short = found.removeprefix("sha256:")[:12]
            findings.append(Finding("ok", f"{image} image", f"{tag} ({short})"))
    return findings
