"""The data cache's bookkeeping on the engine (a fake one here; tests/integration/test_datacache.py
runs it on the real engine): what an entry holds, taking it, eviction, the sweep."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docker
import pytest

from poc_runner.backends.docker import data, datacache
from poc_runner.backends.docker.data import provide_volumes
from poc_runner.backends.docker.datacache import Pin, content_key
from poc_runner.errors import InvalidInput
from poc_runner.model import Scenario
from poc_runner.sandbox import archive
from poc_runner.sandbox import labels as label
from poc_runner.sandbox.dataplan import DataVolume, cache_use
from tests.unit.test_archive import read_later

PIN = Pin("base", "poc-run_data0", {label.RUN: "run"}, "/poc-fill")
GIB = 1024**3


@dataclass
class FakeContainer:
    engine: FakeEngine
    mounts: list[Any]
    name: str | None

    def remove(self, force: bool = False) -> None:
        self.engine.containers.remove(self)

    def put_archive(self, at: str, chunks: Iterable[bytes]) -> bool:
        (mount,) = self.mounts
        assert at == mount["Target"] and not mount["ReadOnly"]
        self.engine.copied.append((mount["Source"], b"".join(chunks)))
        return True


@dataclass
class FakeEngine:
    """Volumes with labels and containers with mounts, as the engine keeps them: a mount of a
    missing volume makes it (empty, unlabelled); a mounted volume cannot be removed."""

    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    containers: list[FakeContainer] = field(default_factory=list)
    copied: list[tuple[str, bytes]] = field(default_factory=list)  # (volume, archive)

    def create_volume(self, name: str, labels: dict[str, str] | None = None) -> None:
        self.labels[name] = dict(labels or {})

    def create_container(self, image: str, **options: Any) -> FakeContainer:
        for mount in options["mounts"]:
            self.labels.setdefault(mount["Source"], {})
        container = FakeContainer(self, options["mounts"], options.get("name"))
        self.containers.append(container)
        return container

    def volumes_listing(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        wanted = [selector.partition("=")[::2] for selector in filters["label"]]
        found = [
            {"Name": name, "Labels": marks}
            for name, marks in self.labels.items()
            if all(key in marks and (not value or marks[key] == value) for key, value in wanted)
        ]
        return {"Volumes": found}

    def inspect_volume(self, name: str) -> dict[str, Any]:
        if name not in self.labels:
            raise docker.errors.NotFound(name)
        return {"Name": name, "Labels": self.labels[name]}

    def remove_volume(self, name: str, force: bool = False) -> None:
        if name not in self.labels:
            raise docker.errors.NotFound(name)
        if any(m["Source"] == name for c in self.containers for m in c.mounts):
            raise docker.errors.APIError("in use", SimpleNamespace(status_code=409), "in use")
        del self.labels[name]

    def entry_volumes(self) -> list[str]:
        return sorted(name for name, marks in self.labels.items() if label.DATA_KEY not in marks)


@pytest.fixture
def engine() -> Any:
    """The slice of a docker client the cache uses, over a fake engine (`.fake`)."""
    fake = FakeEngine()
    return SimpleNamespace(
        api=SimpleNamespace(
            volumes=fake.volumes_listing,
            inspect_volume=fake.inspect_volume,
            remove_volume=fake.remove_volume,
        ),
        volumes=SimpleNamespace(create=fake.create_volume),
        containers=SimpleNamespace(create=fake.create_container),
        fake=fake,
    )


def filled(client: Any, key: str, size: int = 1) -> datacache.Entry:
    entry = datacache.begin(client)
    datacache.finish(client, entry, key, size)
    return entry


class TestContentKey:
    FILES = {"./a.csv": "1" * 64, "./sub/b.csv": "2" * 64}  # noqa: RUF012
    SIZES = {"./a.csv": 10, "./sub/b.csv": 20}  # noqa: RUF012

    def key(self, files: dict[str, str], folders: list[str], **sizes: int) -> str:
        given = {**self.SIZES, **{f"./{name}.csv": size for name, size in sizes.items()}}
        return content_key(files, {name: given[name] for name in files}, folders)

    def test_the_same_files_in_any_order_give_the_same_key(self) -> None:
        backwards = dict(reversed(list(self.FILES.items())))
        assert self.key(self.FILES, [".", "./sub"]) == self.key(backwards, ["./sub", "."])
        plain = {"a.csv": "1" * 64, "sub/b.csv": "2" * 64}
        assert self.key(self.FILES, ["."]) == content_key(
            plain, {"a.csv": 10, "sub/b.csv": 20}, ["."]
        )

    def test_a_digest_a_size_a_name_or_a_folder_changes_it(self) -> None:
        base = self.key(self.FILES, ["."])
        changed = self.key({**self.FILES, "./a.csv": "9" * 64}, ["."])
        resized = self.key(self.FILES, ["."], a=11)
        renamed = content_key(
            {"./c.csv": "1" * 64, "./sub/b.csv": "2" * 64},
            {"./c.csv": 10, "./sub/b.csv": 20},
            ["."],
        )
        folder = self.key(self.FILES, [".", "./empty"])
        assert len({base, changed, resized, renamed, folder}) == 5


class TestCap:
    def test_20_gib_by_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(datacache.CAP_VARIABLE, raising=False)
        assert datacache.cap_bytes() == 20 * GIB

    def test_set_by_the_environment_as_docker_writes_sizes(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(datacache.CAP_VARIABLE, "500m")
        assert datacache.cap_bytes() == 500 * 1024**2

    def test_a_wrong_value_says_what_to_write(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(datacache.CAP_VARIABLE, "lots")
        with pytest.raises(InvalidInput, match="POC_DATA_CACHE_MAX: 'lots' is not a memory size"):
            datacache.cap_bytes()


class TestEntries:
    def test_a_stamped_entry_is_found_by_what_it_holds(self, engine: Any) -> None:
        entry = filled(engine, "k1", 10)
        found = datacache.lookup(engine, "k1")
        assert found is not None and (found.id, found.size) == (entry.id, 10)
        assert datacache.lookup(engine, "k2") is None

    def test_an_unfinished_fill_is_never_found(self, engine: Any) -> None:
        datacache.begin(engine)
        assert datacache.lookup(engine, "k1") is None
        (entry,) = datacache.entries(engine)
        assert entry.key is None and entry.volume == entry.data_volume

    def test_taking_an_entry_pins_it_read_only(self, engine: Any) -> None:
        entry = filled(engine, "k1")
        found = datacache.lookup(engine, "k1")
        assert found is not None
        pin = datacache.take(engine, found, PIN)
        assert pin is not None
        (mount,) = pin.mounts
        assert (mount["Source"], mount["ReadOnly"]) == (entry.data_volume, True)

    def test_taking_an_entry_renews_its_stamp_at_most_once_a_minute(
        self, engine: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        entry = filled(engine, "k1")
        taken = datacache.lookup(engine, "k1")
        assert taken is not None and datacache.take(engine, taken, PIN)
        assert datacache.entries(engine)[0].stamps == entry.stamps  # used a moment ago
        monkeypatch.setattr(datacache, "RENEW_NS", 0)
        taken = datacache.lookup(engine, "k1")
        assert taken is not None and datacache.take(engine, taken, PIN)
        (listed,) = datacache.entries(engine)
        assert listed.used > entry.used and len(listed.stamps) == 1
        assert listed.stamps != entry.stamps

    def test_an_entry_removed_before_it_was_pinned_is_not_taken(self, engine: Any) -> None:
        filled(engine, "k1")
        found = datacache.lookup(engine, "k1")
        assert found is not None
        engine.fake.remove_volume(found.data_volume)  # another process evicted it meanwhile
        assert datacache.take(engine, found, PIN) is None
        assert engine.fake.containers == []
        assert found.data_volume not in engine.fake.labels  # the pin's empty volume is gone

    def test_a_new_entry_replaces_older_ones_holding_the_same(self, engine: Any) -> None:
        old, kept = filled(engine, "k1"), filled(engine, "k2")
        busy = filled(engine, "k3")
        PIN.create(engine, busy.data_volume)
        new, newest = filled(engine, "k1"), filled(engine, "k3")
        volumes = engine.fake.entry_volumes()
        assert old.data_volume not in volumes
        assert {kept.data_volume, new.data_volume, busy.data_volume} <= set(volumes)
        assert newest.data_volume in volumes  # in use: both stay until the old one is free


class TestEviction:
    def test_the_least_recently_used_go_until_the_rest_fits(
        self, engine: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        first, second, third = (filled(engine, f"k{n}", GIB) for n in range(3))
        found = datacache.lookup(engine, "k0")
        assert found is not None
        monkeypatch.setattr(datacache, "RENEW_NS", 0)
        datacache.take(engine, found, PIN)  # the first is now the most recently used...
        engine.fake.containers.clear()  # ...and no longer mounted
        swept = datacache.evict(engine, 2 * GIB)
        assert swept.removed == [f"volume {second.data_volume} (data cache, 1 GiB)"]
        assert engine.fake.entry_volumes() == sorted([first.data_volume, third.data_volume])
        assert datacache.lookup(engine, "k1") is None

    def test_an_entry_a_container_mounts_is_never_evicted(self, engine: Any) -> None:
        busy, idle = filled(engine, "k0", GIB), filled(engine, "k1", GIB)
        PIN.create(engine, busy.data_volume)
        swept = datacache.evict(engine, 0)
        assert engine.fake.entry_volumes() == [busy.data_volume]
        assert swept.left == {datacache.IN_USE: 1}
        assert datacache.lookup(engine, "k1") is None and idle.data_volume in swept.removed[0]

    def test_nothing_goes_under_the_cap(self, engine: Any) -> None:
        filled(engine, "k0", GIB)
        assert datacache.evict(engine, GIB).removed == []


class TestSweep:
    def test_an_unfinished_fill_of_a_dead_process_goes(
        self, engine: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        dead = datacache.begin(engine)
        alive = datacache.begin(engine)
        engine.fake.labels[dead.data_volume][label.OWNER] = "dead"
        monkeypatch.setattr(
            datacache,
            "liveness",
            lambda owner: datacache.Liveness.GONE if owner == "dead" else datacache.Liveness.ALIVE,
        )
        complete = filled(engine, "k1")
        engine.fake.labels[complete.data_volume][label.OWNER] = "dead"
        datacache.sweep(engine)
        assert engine.fake.entry_volumes() == sorted([alive.data_volume, complete.data_volume])

    def test_stamps_whose_data_volume_is_gone_go(self, engine: Any) -> None:
        entry = filled(engine, "k1")
        engine.fake.remove_volume(entry.data_volume)  # by hand
        datacache.sweep(engine)
        assert engine.fake.labels == {}


class TestProvideVolumes:
    """A run's data volumes: from the cache when the files are the same, else filled anew."""

    @pytest.fixture(autouse=True)
    def state(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("POC_STATE_DIR", str(tmp_path / "state"))
        read_later(monkeypatch)

    @pytest.fixture
    def volume(self, tmp_path: Path) -> DataVolume:
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "extract.csv").write_bytes(b"id\n" + b"1\n" * 1000)
        return DataVolume("/data", {"app"}, [(tmp_path / "data" / "extract.csv", "extract.csv")])

    def provide(self, client: Any, volume: DataVolume) -> tuple[dict[str, str], list[Any]]:
        pins: list[Any] = []
        fresh = DataVolume(volume.mount, volume.services, list(volume.entries))
        digests = provide_volumes(client, [fresh], PIN, lambda pin: pins.append(pin) or pin)
        volume.name, volume.from_cache, volume.shared = fresh.name, fresh.from_cache, fresh.shared
        return digests, pins

    def test_a_second_run_on_the_same_files_mounts_the_entry_without_reading_them(
        self, engine: Any, volume: DataVolume, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        first, pins = self.provide(engine, volume)
        assert len(engine.fake.copied) == 1 and not volume.from_cache and volume.shared
        assert [pin.mounts[0]["ReadOnly"] for pin in pins] == [True]  # the filler is gone
        engine.fake.containers.clear()  # the first run ended
        monkeypatch.setattr(archive, "_open_regular", unreadable)
        again, pins = self.provide(engine, volume)
        assert again == first and volume.from_cache and len(engine.fake.copied) == 1
        sha = hashlib.sha256((volume.entries[0][0]).read_bytes()).hexdigest()
        assert first == {"/data/extract.csv": sha}

    def test_a_changed_file_is_copied_into_a_new_entry(
        self, engine: Any, volume: DataVolume
    ) -> None:
        first, _ = self.provide(engine, volume)
        before = volume.name
        with volume.entries[0][0].open("r+b") as handle:  # the same size
            handle.write(b"ID")
        again, _ = self.provide(engine, volume)
        assert again != first and volume.name != before and not volume.from_cache
        assert len(engine.fake.copied) == 2

    def test_a_copy_of_small_files_finds_the_entry_its_original_filled(
        self, engine: Any, volume: DataVolume, tmp_path: Path
    ) -> None:
        """Files the index does not know are hashed first when they are small (a copied
        scenario folder), so their entry is found instead of filled again."""
        self.provide(engine, volume)
        copy = tmp_path / "copy.csv"
        copy.write_bytes(volume.entries[0][0].read_bytes())
        copied = DataVolume("/data", {"app"}, [(copy, "extract.csv")])
        self.provide(engine, copied)
        assert copied.from_cache and copied.name == volume.name

    def test_big_files_the_index_does_not_know_are_hashed_once_while_copied(
        self, engine: Any, volume: DataVolume, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(data, "PREHASH_MAX", 100)
        read: list[str] = []
        real = archive._open_regular
        monkeypatch.setattr(archive, "_open_regular", lambda path: read.append(path) or real(path))
        self.provide(engine, volume)
        assert read == [str(volume.entries[0][0])]

    def test_a_new_entry_over_the_cap_evicts_the_least_recently_used(
        self, engine: Any, volume: DataVolume, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        old = filled(engine, "old", 10)
        monkeypatch.setenv(datacache.CAP_VARIABLE, "1k")  # less than the new one: it stays, pinned
        self.provide(engine, volume)
        assert engine.fake.entry_volumes() == [volume.name]
        assert old.data_volume not in engine.fake.labels


def unreadable(path: str) -> None:
    raise AssertionError(f"{path} was read")


def test_each_item_says_whether_it_came_from_the_cache(tmp_path: Path) -> None:
    scenario = Scenario.model_validate(
        {
            "apiVersion": "poc-runner/v1",
            "name": "cache-use",
            "services": {"app": {"image": "base"}},
            "data": [
                {"name": "a", "path": "a.csv", "mount": "/data/a.csv"},
                {"name": "ref", "path": "ref", "mount": "/ref"},
            ],
        }
    )
    cached = DataVolume("/data", {"app"}, [(tmp_path / "a.csv", "a.csv")], from_cache=True)
    copied = DataVolume("/ref", {"app"}, [(tmp_path / "ref", ".")])
    assert cache_use(scenario, tmp_path, [cached, copied]) == {"a": "cached", "ref": "copied"}
