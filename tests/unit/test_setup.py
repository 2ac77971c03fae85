"""`poc setup`, the parts that need no engine: the names of the images, debootstrap's run and
what is said when it cannot run, the trimmed root, the scratch folder, the command's own
refusals. tests/integration/test_setup.py makes the images on the real engine."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import docker
import pytest

from poc_runner.backends.docker import doctor
from poc_runner.backends.docker.helpers import BASE_IMAGE, create_helper
from poc_runner.backends.docker.holder import PAUSE_IMAGE
from poc_runner.backends.docker.setup import build as built
from poc_runner.backends.docker.setup import debian
from poc_runner.errors import InvalidInput, SandboxError, ToolUnavailable
from poc_runner.setup import IMAGES, tag_of
from poc_runner.setup.request import Request

ROOT = Path(__file__).resolve().parents[2]
POC = [sys.executable, "-m", "poc_runner"]


def fake_debootstrap(folder: Path, *, exit_code: int = 0) -> Path:
    """A `debootstrap` that records its arguments, writes a small root into its target folder
    (with what `trim` drops) and prints what the real one prints, in its order."""
    program = folder / "debootstrap"
    program.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            echo "$@" > {folder}/arguments
            mkdir -p "$4/etc" "$4/usr/share/doc/bash" "$4/var/lib/apt/lists"
            echo 12.4 > "$4/etc/debian_version"
            echo text > "$4/usr/share/doc/bash/copyright"
            echo "I: Retrieving InRelease"
            echo "I: Retrieving adduser 3.134"
            echo "I: Validating adduser 3.134"
            echo "I: Retrieving apt 2.6.1"
            echo "W: a warning"
            echo "I: Base system installed successfully."
            exit {exit_code}
            """
        )
    )
    program.chmod(0o755)
    return program


class TestNames:
    def test_the_images_runs_use_are_the_default_prefix_s(self) -> None:
        assert [tag_of(image) for image in IMAGES] == [
            BASE_IMAGE,
            "poc-runner/postgres:bookworm",
            PAUSE_IMAGE,
        ]
        assert tag_of("base", "my-team/poc") == "my-team/poc/base:bookworm"

    def test_the_examples_build_from_and_use_the_images_setup_makes(self) -> None:
        dockerfile = (ROOT / "scenarios" / "invoice-dedupe" / "app" / "Dockerfile").read_text()
        assert f"ARG BASE={tag_of('base')}" in dockerfile
        ledger = (ROOT / "scenarios" / "ledger-load" / "scenario.yaml").read_text()
        assert f"image: {tag_of('postgres')}" in ledger

    @pytest.mark.parametrize("prefix", ["poc-runner", "my-team/poc", "localhost:5000/poc"])
    def test_a_prefix_docker_accepts_is_taken(self, prefix: str) -> None:
        assert Request(prefix=prefix).prefix == prefix

    @pytest.mark.parametrize("prefix", ["BAD", "a//b", "-dash", "a b", "x:1"])
    def test_a_prefix_docker_would_refuse_is_refused_before_anything_is_made(
        self, prefix: str
    ) -> None:
        with pytest.raises(InvalidInput, match="cannot start an image name"):
            Request(prefix=prefix)

    def test_the_package_ships_the_build_folders(self) -> None:
        for name in ("base", "postgres"):
            text = (built.folder(name) / "Dockerfile").read_text()
            assert "ARG BASE" in text and "FROM ${BASE}" in text


class TestDebootstrap:
    def test_its_arguments_and_one_line_of_progress_per_phase(self, tmp_path: Path) -> None:
        program = fake_debootstrap(tmp_path)
        said: list[str] = []
        debian.debootstrap(str(program), tmp_path / "root", said.append, "http://mirror.test/")
        assert (tmp_path / "arguments").read_text().split() == [
            "--variant=minbase",
            "--include=python3",
            "bookworm",
            str(tmp_path / "root"),
            "http://mirror.test/",
        ]
        assert said == [
            "debootstrap: Retrieving InRelease",
            "debootstrap: Validating adduser 3.134",
            "debootstrap: Base system installed successfully.",
        ]

    def test_a_failure_says_why_with_its_last_lines(self, tmp_path: Path) -> None:
        program = fake_debootstrap(tmp_path, exit_code=1)
        with pytest.raises(SandboxError) as caught:
            debian.debootstrap(str(program), tmp_path / "root", lambda _: None)
        message = str(caught.value)
        assert "debootstrap could not install Debian bookworm (exit 1)" in message
        assert "  | W: a warning" in message
        assert "--mirror URL" in message and "poc setup --from-registry" in message

    def test_without_debootstrap_one_paragraph_says_how_to_get_it_or_do_without(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PATH", str(tmp_path))
        monkeypatch.setattr(debian, "SBIN", "")
        with pytest.raises(ToolUnavailable) as caught:
            debian.debootstrap_program()
        message = str(caught.value)
        assert "\n" not in message
        assert "apt-get install debootstrap" in message
        assert "poc setup --from-registry" in message

    def test_debootstrap_in_sbin_is_found_when_path_lacks_it(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        program = fake_debootstrap(tmp_path)
        monkeypatch.setenv("PATH", "/nowhere")
        monkeypatch.setattr(debian, "SBIN", str(tmp_path))
        monkeypatch.setattr(os, "geteuid", lambda: 0)
        assert debian.debootstrap_program() == str(program)

    def test_without_root_it_says_to_use_sudo_or_a_registry(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        fake_debootstrap(tmp_path)
        monkeypatch.setenv("PATH", str(tmp_path))
        monkeypatch.setattr(os, "geteuid", lambda: 1000)
        with pytest.raises(ToolUnavailable, match=r"needs root.*sudo poc setup.*--from-registry"):
            debian.debootstrap_program()


class TestRootFolder:
    def test_trim_empties_the_caches_and_docs_and_keeps_the_rest(self, tmp_path: Path) -> None:
        outside = tmp_path.parent / f"{tmp_path.name}-outside"
        (outside / "keep").mkdir(parents=True)
        for relative in (
            "usr/share/doc/bash/copyright",
            "var/cache/apt/archives/bash.deb",
            "var/lib/apt/lists/debian_Packages",
            "etc/debian_version",
            "usr/share/zoneinfo/UTC",
        ):
            (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / relative).write_text("x")
        (tmp_path / "usr/share/man").mkdir()
        (tmp_path / "usr/share/man/link").symlink_to(outside, target_is_directory=True)
        debian.trim(tmp_path)
        for folder in (tmp_path / relative for relative in debian.TRIMMED):
            assert not folder.exists() or not any(folder.iterdir()), folder
        assert (tmp_path / "usr/share/doc").is_dir()
        assert (tmp_path / "etc/debian_version").exists()
        assert (tmp_path / "usr/share/zoneinfo/UTC").exists()
        assert (outside / "keep").is_dir()  # the link was removed, not what it points to

    def test_mount_points_under_the_folder_are_read_from_the_mount_table(
        self, tmp_path: Path
    ) -> None:
        table = tmp_path / "mountinfo"
        table.write_text(
            "22 1 0:21 / /proc rw - proc proc rw\n"
            "90 22 0:5 / /tmp/poc-base.x/root/dev rw - devtmpfs udev rw\n"
            "91 22 0:22 / /tmp/poc-base.x/root/my\\040disk rw - tmpfs tmpfs rw\n"
            "92 22 0:23 / /tmp/poc-base.xy/root/proc rw - proc proc rw\n"
        )
        assert debian.mounts_under(Path("/tmp/poc-base.x"), table) == [
            "/tmp/poc-base.x/root/dev",
            "/tmp/poc-base.x/root/my disk",
        ]

    def test_the_scratch_folder_is_removed_also_on_an_error(self) -> None:
        with pytest.raises(RuntimeError), debian.scratch_folder() as scratch:
            (scratch / "root" / "etc").mkdir(parents=True)
            raise RuntimeError("debootstrap failed")
        assert not scratch.exists()


class TestCommand:
    def test_no_engine_is_said_in_one_paragraph(self, tmp_path: Path) -> None:
        env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
        env.pop("DOCKER_CONTEXT", None)
        done = subprocess.run([*POC, "setup"], capture_output=True, text=True, env=env)
        assert done.returncode == 3, done.stderr
        assert done.stderr.startswith("error: no Docker engine answers at unix://")
        assert "Start Docker" in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert "make " not in done.stderr

    def test_an_image_name_after_from_registry_is_a_usage_error(self) -> None:
        done = subprocess.run(
            [*POC, "setup", "--from-registry", "postgres"], capture_output=True, text=True
        )
        assert done.returncode == 2
        assert "poc setup postgres --from-registry" in done.stderr

    def test_a_bad_prefix_is_refused_before_the_engine_is_asked(self, tmp_path: Path) -> None:
        env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
        done = subprocess.run(
            [*POC, "setup", "--prefix", "Team"], capture_output=True, text=True, env=env
        )
        assert done.returncode == 2, done.stderr
        assert "--prefix 'Team' cannot start an image name" in done.stderr


class TestWhatNamesSetup:
    """Where an image of `poc setup` is missing, what says so names `poc setup` (a pip install
    has no Makefile)."""

    @staticmethod
    def engine_without(missing: set[str]) -> SimpleNamespace:
        def get(reference: str) -> SimpleNamespace:
            if reference in missing:
                raise docker.errors.ImageNotFound(reference)
            return SimpleNamespace(id="sha256:" + "ab" * 32)

        def create(image: str, *_: object, **__: object) -> None:
            raise docker.errors.ImageNotFound(image)

        return SimpleNamespace(
            images=SimpleNamespace(get=get), containers=SimpleNamespace(create=create)
        )

    def test_doctor_names_poc_setup_for_each_image_missing(self) -> None:
        client = self.engine_without({tag_of("base"), tag_of("postgres")})
        findings = {f.what: f for f in doctor._images(client)}
        assert [findings[f"{image} image"].status for image in IMAGES] == ["missing", "warn", "ok"]
        for image in ("base", "postgres"):
            assert (
                f"{tag_of(image)} is not here: `poc setup` makes it"
                in findings[f"{image} image"].detail
            )
        assert findings["pause image"].detail == f"{tag_of('pause')} (abababababab)"
        assert not any("make " in finding.detail for finding in findings.values())

    def test_a_helper_without_its_image_names_poc_setup(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("POC_HELPER_IMAGE", raising=False)
        client = self.engine_without({BASE_IMAGE})
        with pytest.raises(SandboxError, match=r"`poc setup`, or set POC_HELPER_IMAGE"):
            create_helper(client, "the http probe", ["true"])


class TestKeptImages:
    """Which kept images `poc setup` makes again: the stand-in when this poc-runner's folder
    for it differs from the one it was built from, never a base unless asked."""

    @pytest.fixture
    def made(self, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        from poc_runner.backends.docker.setup import make
        from poc_runner.progress import Progress

        calls: list[str] = []
        monkeypatch.setattr(make, "local_image_id", lambda _client, tag: "sha256:kept")
        monkeypatch.setattr(make, "_older", lambda _c, _r, image: " (older)")

        def build(_client: object, _request: object, image: str, *_: object) -> str:
            calls.append(image)
            return "sha256:new"

        monkeypatch.setattr(make, "_make", build)
        monkeypatch.setattr(make, "_drop_untagged", lambda *_: None)
        self.outcomes = make.set_up(object(), Request(), Progress(io.StringIO()))  # type: ignore[arg-type]
        return calls

    def test_a_stand_in_built_from_another_folder_is_made_again_and_a_base_is_kept(
        self, made: list[str]
    ) -> None:
        assert made == ["postgres"]
        notes = {outcome.tag: outcome.note for outcome in self.outcomes}
        assert notes[tag_of("base")] == "there already (older)"
        assert notes[tag_of("postgres")].startswith("built FROM")

    def test_a_stand_in_without_the_key_of_its_build_is_older(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Made by hand (`docker build`) or by a poc-runner before `poc setup`: no key to
        compare, so it is not taken for what this poc-runner would build."""
        from poc_runner.backends.docker.setup import make

        monkeypatch.setattr(built, "key_of", lambda *_: "key-now")
        image = SimpleNamespace(labels=None)
        client = SimpleNamespace(images=SimpleNamespace(get=lambda _tag: image))
        assert "`poc setup --rebuild`" in make._older(client, Request(), "postgres")  # type: ignore[arg-type]
        image.labels = {make.LABEL: "key-now"}
        assert make._older(client, Request(), "postgres") == ""  # type: ignore[arg-type]
