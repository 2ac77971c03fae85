"""Where Compose's volumes, configs and secrets go in a run (`plan_mounts`): named volumes are
shared, anonymous ones per service, a bound folder is one copy for every service that binds it,
a bound file, a config or a secret lands in a volume at its folder filled from the service's
image first; nothing is bind-mounted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from poc_runner.model import Scenario
from poc_runner.sandbox.volumeplan import Attach, plan_mounts


def scenario(**services: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(
        {
            "apiVersion": "poc-runner/v1",
            "name": "plan",
            "services": {name: {"image": "busybox:1.36", **s} for name, s in services.items()},
        }
    )


def test_a_named_volume_is_one_for_the_run_and_an_anonymous_one_is_the_services(
    tmp_path: Path,
) -> None:
    plan = plan_mounts(
        scenario(
            job={"volumes": ["exports:/out", "/scratch"]},
            api={"volumes": ["exports:/in:ro"]},
        ),
        tmp_path,
        "poc-r",
    )
    assert plan.mounts["job"] == [
        Attach("poc-r-vol-exports", "/out", read_only=False),
        Attach("poc-r-job-anon1", "/scratch", read_only=False),
    ]
    assert plan.mounts["api"] == [Attach("poc-r-vol-exports", "/in", read_only=True)]
    assert all(not v.entries for v in plan.volumes.values())  # filled from the image


def test_a_bound_folder_is_one_copy_writable_where_a_service_writes(tmp_path: Path) -> None:
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "a.csv").write_text("x\n")
    plan = plan_mounts(
        scenario(
            job={"volumes": ["./seed:/seed"]},
            api={"volumes": ["./seed:/seed:ro"]},
        ),
        tmp_path,
        "poc-r",
    )
    (copy,) = plan.volumes.values()
    assert (copy.entries, copy.as_host, copy.copies) == ([(tmp_path / "seed", ".")], True, True)
    assert plan.mounts["api"] == [Attach(copy.name, "/seed", read_only=True, no_copy=True)]


def test_files_land_in_a_volume_at_their_folder_read_only_unless_bound_writable(
    tmp_path: Path,
) -> None:
    (tmp_path / "app.ini").write_text("[a]\n")
    plan = plan_mounts(
        scenario(
            api={
                "volumes": ["./app.ini:/etc/app/app.ini:ro"],
                "secrets": [{"source": "token", "content": "s3cret"}],
                "configs": [{"source": "extra", "target": "/etc/app/extra.ini", "file": "app.ini"}],
            }
        ),
        tmp_path,
        "poc-r",
    )
    by_target = {a.target: a for a in plan.mounts["api"]}
    assert set(by_target) == {"/etc/app", "/run/secrets"}
    assert by_target["/etc/app"].read_only and by_target["/run/secrets"].read_only
    etc = plan.volumes[by_target["/etc/app"].volume]
    assert etc.at == "/etc/app"
    assert [member for _, member in etc.entries] == ["app.ini", "extra.ini"]
    assert plan.volumes[by_target["/run/secrets"].volume].entries == [(b"s3cret", "token")]


def test_the_hosts_clock_files_are_left_out(tmp_path: Path) -> None:
    plan = plan_mounts(
        scenario(api={"volumes": ["/etc/localtime:/etc/localtime:ro"]}), tmp_path, "poc-r"
    )
    assert plan.mounts["api"] == [] and plan.volumes == {}
