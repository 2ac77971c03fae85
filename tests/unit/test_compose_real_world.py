"""Real-world Compose files (tests/data/compose/real-world, ORIGINS.md) validate as the spec's
field table says, referenced unchanged and pasted into a scenario alike: 19 stacks as they are
published, and five refused for host access (the Docker socket, host folders, NET_ADMIN), each
refusal naming the entry in the file that wrote it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from poc_runner.diagnostics import Severity
from poc_runner.validation import validate_file

REAL_WORLD = Path(__file__).parents[1] / "data" / "compose" / "real-world"

# folder -> the errors (rule, key path) the spec's table gives it; set() validates
EXPECTED: dict[str, set[tuple[str, str]]] = {
    "ac-django": set(),
    "ac-elasticsearch-logstash-kibana": set(),
    "ac-flask-redis": set(),
    "ac-gitea-postgres": set(),
    "ac-nextcloud-postgres": set(),
    "ac-nextcloud-redis-mariadb": set(),
    "ac-nginx-flask-mysql": set(),
    "ac-nginx-golang-postgres": set(),
    "ac-pihole-cloudflared-doh": {
        ("security", "services.pihole.volumes[0]"),  # /etc/pihole/
        ("security", "services.pihole.volumes[1]"),  # /etc/dnsmasq.d/
        ("security", "services.pihole.cap_add[0]"),  # NET_ADMIN
    },
    "ac-portainer": {("security", "services.portainer.volumes[0]")},  # the Docker socket
    "ac-postgresql-pgadmin": set(),
    "ac-prometheus-grafana": set(),
    "ac-react-express-mongodb": set(),
    "ac-react-rust-postgres": set(),
    "ac-spring-postgres": set(),
    "ac-traefik-golang": {("security", "services.frontend.volumes[0]")},  # the Docker socket
    "ac-wordpress-mysql": set(),
    "airflow": set(),
    "authentik": {("security", "services.worker.volumes[0]")},  # the Docker socket
    "immich": set(),
    "n8n": set(),
    "paperless": set(),
    "plausible": set(),
    "superset": set(),
}


def test_every_real_world_folder_has_an_expectation() -> None:
    assert {p.name for p in REAL_WORLD.iterdir() if p.is_dir()} == set(EXPECTED)


@pytest.mark.parametrize("form", ["poc-ref.yaml", "poc-paste.yaml"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_world_compose_file_validates_as_the_field_table_says(
    tmp_path: Path, name: str, form: str
) -> None:
    folder = tmp_path / name
    shutil.copytree(REAL_WORLD / name, folder)
    result = validate_file(folder / form)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert {(d.rule, d.key_path) for d in errors} == EXPECTED[name], [
        d.format_text() for d in result.diagnostics
    ]
    if form == "poc-ref.yaml":  # a refusal points into the Compose file that wrote it
        assert all(Path(d.file).name != form for d in errors)
