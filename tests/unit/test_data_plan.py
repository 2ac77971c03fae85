"""Where the prospect's data goes: `plan_volumes` (which read-only volumes, mounted where, seen
by whom) and `checksums` (the sha256 recorded per data item)."""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from poc_runner.backends.docker import data as data_module
from poc_runner.backends.docker.data import fill_volumes
from poc_runner.model import Scenario
from poc_runner.sandbox.archive import folder_digest
from poc_runner.sandbox.dataplan import DataVolume, checksums, plan_volumes

SERVICES = {"app": {"image": "python:3.12-slim"}, "db": {"image": "postgres:16"}}


def scenario(*items: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(
        {
            "apiVersion": "poc-runner/v1",
            "name": "data-plan",
            "services": SERVICES,
            "data": list(items),
        }
    )


def item(name: str, path: str, mount: str, services: list[str] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "path": path, "mount": mount}
    if services is not None:
        found["services"] = services
    return found


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """data/invoices.csv, data/vendors.csv, data/reference/{rates.csv, sub/old.csv}"""
    (tmp_path / "data" / "reference" / "sub").mkdir(parents=True)
    for relative, text in {
        "data/invoices.csv": "id\n1\n",
        "data/vendors.csv": "vendor\nNorthwind\n",
        "data/reference/rates.csv": "rate\n1.1\n",
        "data/reference/sub/old.csv": "rate\n0.9\n",
    }.items():
        (tmp_path / relative).write_text(text)
    return tmp_path


def seen_by(service: str, volumes: list[DataVolume]) -> dict[str, list[str]]:
    """What one service sees: mount point -> member names."""
    return {v.mount: [name for _, name in v.entries] for v in volumes if service in v.services}


class TestPlanVolumes:
    def test_no_data_no_volumes(self, folder: Path) -> None:
        assert plan_volumes(scenario(), folder) == []

    def test_a_file_is_carried_by_a_volume_on_its_parent_folder(self, folder: Path) -> None:
        (volume,) = plan_volumes(
            scenario(item("invoices", "data/invoices.csv", "/data/invoices.csv")), folder
        )
        assert volume.mount == "/data"
        assert volume.entries == [(folder / "data/invoices.csv", "invoices.csv")]
        assert volume.folders == []

    def test_a_file_can_be_renamed_by_its_mount(self, folder: Path) -> None:
        (volume,) = plan_volumes(
            scenario(item("invoices", "data/invoices.csv", "/in/all-invoices.csv")), folder
        )
        assert (volume.mount, volume.entries[0][1]) == ("/in", "all-invoices.csv")

    def test_files_in_one_folder_share_a_volume(self, folder: Path) -> None:
        (volume,) = plan_volumes(
            scenario(
                item("invoices", "data/invoices.csv", "/data/invoices.csv"),
                item("vendors", "data/vendors.csv", "/data/vendors.csv"),
            ),
            folder,
        )
        assert volume.mount == "/data"
        assert volume.entries == [
            (folder / "data/invoices.csv", "invoices.csv"),
            (folder / "data/vendors.csv", "vendors.csv"),
        ]

    def test_files_in_different_folders_get_their_own_volumes(self, folder: Path) -> None:
        volumes = plan_volumes(
            scenario(
                item("invoices", "data/invoices.csv", "/in/invoices.csv"),
                item("vendors", "data/vendors.csv", "/ref/vendors.csv"),
            ),
            folder,
        )
        assert [(v.mount, [n for _, n in v.entries]) for v in volumes] == [
            ("/in", ["invoices.csv"]),
            ("/ref", ["vendors.csv"]),
        ]

    def test_a_folder_is_mounted_at_its_own_path(self, folder: Path) -> None:
        (volume,) = plan_volumes(
            scenario(item("reference", "data/reference", "/data/reference")), folder
        )
        assert volume.mount == "/data/reference"
        assert volume.entries == [(folder / "data/reference", ".")]

    def test_mount_paths_are_normalised(self, folder: Path) -> None:
        volumes = plan_volumes(
            scenario(
                item("reference", "data/reference", "/data/reference/"),
                item("invoices", "data/invoices.csv", "/in//invoices.csv"),
            ),
            folder,
        )
        assert [v.mount for v in volumes] == ["/data/reference", "/in"]

    def test_sorted_by_mount_point(self, folder: Path) -> None:
        volumes = plan_volumes(
            scenario(
                item("vendors", "data/vendors.csv", "/z/vendors.csv"),
                item("reference", "data/reference", "/a/reference"),
                item("invoices", "data/invoices.csv", "/m/invoices.csv"),
            ),
            folder,
        )
        assert [v.mount for v in volumes] == ["/a/reference", "/m", "/z"]

    def test_every_service_sees_an_item_that_names_none(self, folder: Path) -> None:
        (volume,) = plan_volumes(
            scenario(item("invoices", "data/invoices.csv", "/data/invoices.csv")), folder
        )
        assert volume.services == {"app", "db"}

    def test_only_the_named_services_see_an_item(self, folder: Path) -> None:
        volumes = plan_volumes(
            scenario(
                item("invoices", "data/invoices.csv", "/in/invoices.csv", ["app"]),
                item("reference", "data/reference", "/ref", ["db"]),
            ),
            folder,
        )
        assert seen_by("app", volumes) == {"/in": ["invoices.csv"]}
        assert seen_by("db", volumes) == {"/ref": ["."]}

    def test_a_shared_folder_holds_for_each_service_only_its_items(self, folder: Path) -> None:
        volumes = plan_volumes(
            scenario(
                item("invoices", "data/invoices.csv", "/data/invoices.csv", ["app"]),
                item("vendors", "data/vendors.csv", "/data/vendors.csv"),
            ),
            folder,
        )
        assert seen_by("app", volumes) == {"/data": ["invoices.csv", "vendors.csv"]}
        assert seen_by("db", volumes) == {"/data": ["vendors.csv"]}

    def test_services_that_see_the_same_items_share_one_volume(self, folder: Path) -> None:
        (volume,) = plan_volumes(
            scenario(item("vendors", "data/vendors.csv", "/data/vendors.csv")), folder
        )
        assert volume.services == {"app", "db"}

    def test_a_file_for_one_service_is_not_seen_by_another(self, folder: Path) -> None:
        volumes = plan_volumes(
            scenario(
                item("invoices", "data/invoices.csv", "/data/invoices.csv", ["app"]),
                item("vendors", "data/vendors.csv", "/data/vendors.csv", ["db"]),
            ),
            folder,
        )
        assert seen_by("app", volumes) == {"/data": ["invoices.csv"]}
        assert seen_by("db", volumes) == {"/data": ["vendors.csv"]}

    def test_nested_mount_points_are_listed_as_folders(self, folder: Path) -> None:
        volumes = plan_volumes(
            scenario(
                item("reference", "data/reference", "/data", ["app"]),
                item("invoices", "data/invoices.csv", "/data/in/invoices.csv", ["db"]),
                item("vendors", "data/vendors.csv", "/data/in/deep/vendors.csv", ["db"]),
            ),
            folder,
        )
        by_mount = {v.mount: v for v in volumes}
        assert sorted(by_mount) == ["/data", "/data/in", "/data/in/deep"]
        assert sorted(by_mount["/data"].folders) == ["in", "in/deep"]
        assert by_mount["/data/in"].folders == ["deep"]
        assert by_mount["/data/in/deep"].folders == []

    def test_a_sibling_with_a_common_prefix_is_not_nested(self, folder: Path) -> None:
        volumes = plan_volumes(
            scenario(
                item("invoices", "data/invoices.csv", "/data/invoices.csv"),
                item("vendors", "data/vendors.csv", "/database/vendors.csv"),
            ),
            folder,
        )
        assert [v.folders for v in volumes] == [[], []]


class TestChecksums:
    def test_a_file_items_checksum_is_its_files(self) -> None:
        subject = scenario(item("invoices", "data/invoices.csv", "/data/invoices.csv"))
        digests = {"/data/invoices.csv": "a" * 64, "/data/other.csv": "b" * 64}
        assert checksums(subject, digests) == {"invoices": "a" * 64}

    def test_a_folder_items_checksum_is_over_its_files(self) -> None:
        subject = scenario(item("reference", "data/reference", "/data/reference"))
        digests = {
            "/data/reference/rates.csv": "1" * 64,
            "/data/reference/sub/old.csv": "2" * 64,
            "/data/referenced.csv": "3" * 64,
        }
        expected = folder_digest(
            {k: v for k, v in digests.items() if k.startswith("/data/reference/")},
            "/data/reference/",
        )
        assert checksums(subject, digests) == {"reference": expected}

    def test_mounts_are_normalised_like_the_digests(self) -> None:
        subject = scenario(
            item("invoices", "data/invoices.csv", "/data//invoices.csv"),
            item("reference", "data/reference", "/ref/"),
        )
        digests = {"/data/invoices.csv": "a" * 64, "/ref/rates.csv": "1" * 64}
        found = checksums(subject, digests)
        assert found["invoices"] == "a" * 64
        assert found["reference"] == folder_digest({"/ref/rates.csv": "1" * 64}, "/ref/")

    def test_one_per_item(self) -> None:
        subject = scenario(
            item("invoices", "data/invoices.csv", "/data/invoices.csv"),
            item("vendors", "data/vendors.csv", "/data/vendors.csv"),
            item("reference", "data/reference", "/ref"),
        )
        assert list(checksums(subject, {})) == ["invoices", "vendors", "reference"]


class FakeFiller:
    """The one-off container `fill_volumes` copies through: keeps what it is given."""

    def __init__(self) -> None:
        self.archives: dict[str, bytes] = {}
        self.removed = False

    def put_archive(self, path: str, archive: Iterable[bytes]) -> bool:
        self.archives[path] = b"".join(archive)
        return True

    def remove(self, force: bool = False) -> None:
        self.removed = force


class FakeClient:
    """The slice of `docker.DockerClient` that `fill_volumes` uses."""

    def __init__(self) -> None:
        self.filler = FakeFiller()
        self.created_volumes: list[str] = []
        self.create_options: dict[str, Any] = {}
        outer = self

        class Volumes:
            def create(self, name: str, labels: dict[str, str]) -> None:
                outer.created_volumes.append(name)

        class Containers:
            def create(self, image: str, **options: Any) -> FakeFiller:
                outer.create_options = {"image": image, **options}
                return outer.filler

        self.volumes, self.containers = Volumes(), Containers()


def test_checksums_of_what_was_copied_match_the_files(
    folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """End to end without an engine: plan, fill (through a fake client), then checksums."""
    monkeypatch.setenv("POC_STATE_DIR", str(tmp_path / "state"))
    subject = scenario(
        item("invoices", "data/invoices.csv", "/data/invoices.csv", ["app"]),
        item("reference", "data/reference", "/ref"),
    )
    volumes = plan_volumes(subject, folder)
    client = FakeClient()
    digests = fill_volumes(client, volumes, "python:3.12-slim", {"poc": "1"}, "poc-run")  # type: ignore[arg-type]
    assert client.created_volumes == ["poc-run-data0", "poc-run-data1"]
    assert client.filler.removed
    assert client.create_options["network_disabled"] is True
    assert sorted(client.filler.archives) == [
        f"{data_module.FILL_AT}/0",
        f"{data_module.FILL_AT}/1",
    ]

    def sha(relative: str) -> str:
        return hashlib.sha256((folder / relative).read_bytes()).hexdigest()

    assert digests == {
        "/data/invoices.csv": sha("data/invoices.csv"),
        "/ref/rates.csv": sha("data/reference/rates.csv"),
        "/ref/sub/old.csv": sha("data/reference/sub/old.csv"),
    }
    found = checksums(subject, digests)
    assert found["invoices"] == sha("data/invoices.csv")
    assert found["reference"] == folder_digest(
        {
            "rates.csv": sha("data/reference/rates.csv"),
            "sub/old.csv": sha("data/reference/sub/old.csv"),
        },
        "",
    )
    with tarfile.open(
        fileobj=io.BytesIO(client.filler.archives[f"{data_module.FILL_AT}/1"])
    ) as tar:
        names = {posixpath.normpath(m.name) for m in tar.getmembers()}
    assert names == {".", "rates.csv", "sub", "sub/old.csv"}


def test_no_data_creates_nothing() -> None:
    client = FakeClient()
    assert fill_volumes(client, [], "python:3.12-slim", {}, "poc-run") == {}  # type: ignore[arg-type]
    assert client.created_volumes == []
    assert client.create_options == {}
