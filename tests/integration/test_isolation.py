"""The sandbox's network: services reach each other by name and nothing else — not the host
(a listener on the host's 0.0.0.0 stays unreachable on every host address and the gateway),
so nothing beyond it either. The same probe under `network: egress` reaches what isolation
blocks, so the test can fail. Images are built as isolated as the run: a Dockerfile's RUN
reaches no host address either, unless the build asks for the network. Every address probed is
this machine's own: tests never send traffic anywhere else, not even as a control."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docker
import pytest
from docker.models.containers import Container

from poc_runner.backend import Outcome, Targets
from poc_runner.result import RunResult

from .conftest import BASE, WEB_SERVICE, ScenarioFactory, host_addresses, run_folder

PROBE = """\
import json, os, socket
from concurrent.futures import ThreadPoolExecutor
targets = json.loads(os.environ["TARGETS"])
own = socket.gethostbyname(socket.gethostname())
targets.append([own.rsplit(".", 1)[0] + ".1", int(os.environ["PORT"])])  # the network's gateway
def attempt(target):
    try:
        socket.create_connection(tuple(target), timeout=2).close()
        return "open"
    except OSError as exc:
        return type(exc).__name__
with ThreadPoolExecutor(len(targets)) as pool:
    found = {f"{h}:{p}": r for (h, p), r in zip(targets, pool.map(attempt, targets))}
with open("/etc/resolv.conf") as conf:
    found["nameservers"] = [line.split()[1] for line in conf if line.startswith("nameserver")]
print(json.dumps(found))
"""


def probe_scenario(scenario: ScenarioFactory, network: str, port: int, name: str) -> Path:
    targets = [[address, port] for address in host_addresses()]
    return scenario(
        f"""\
        sandbox: {{network: {network}}}
        data: [{{name: probe, path: probe.py, mount: /probe/probe.py}}]
        services:
          server: {WEB_SERVICE}
          client:
            image: {BASE}
            command: [sleep, infinity]
            depends_on: {{server: {{condition: service_healthy}}}}
        steps:
          - name: by-name
            service: client
            run: python3 -c "import urllib.request as u; print(u.urlopen('http://server:8080/').status)"
          - name: probe
            service: client
            run: [python3, /probe/probe.py]
            env:
              TARGETS: '{json.dumps(targets)}'
              PORT: "{port}"
        """,
        name=name,
        files={"probe.py": PROBE},
    )


def probed(tmp_path: Path, result: RunResult) -> dict[str, Any]:
    assert result.error is None, result.error
    return dict(json.loads((run_folder(tmp_path, result) / "steps" / "probe.out").read_text()))


def test_isolated_services_reach_each_other_and_nothing_else(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path, host_listener: int
) -> None:
    result = run(probe_scenario(scenario, "isolated", host_listener, "isolated"))
    steps = {step.name: step for step in result.steps}
    assert steps["by-name"].exit_code == 0
    assert (run_folder(tmp_path, result) / "steps" / "by-name.out").read_text().strip() == "200"
    found = probed(tmp_path, result)
    assert found.pop("nameservers") == ["127.0.0.11"]  # the engine's own resolver, nothing else
    assert len(found) >= 2  # at least one host address and the gateway
    assert all(outcome != "open" for outcome in found.values()), found


def test_egress_reaches_what_isolation_blocks(
    scenario: ScenarioFactory, run: Callable[..., RunResult], tmp_path: Path, host_listener: int
) -> None:
    """The control: the same probe, with a route out, reaches the host's listener, so the
    isolated run's failures come from the isolation, not from the probe."""
    found = probed(tmp_path, run(probe_scenario(scenario, "egress", host_listener, "egress")))
    found.pop("nameservers")
    reached = [target for target, outcome in found.items() if outcome == "open"]
    assert any(target.endswith(f":{host_listener}") for target in reached), found


# --- the `isolation` check: the same question asked as a criterion --------------------------


def isolation_scenario(scenario: ScenarioFactory, network: str, name: str) -> Path:
    return scenario(
        f"""\
        sandbox: {{network: {network}}}
        services:
          server: {WEB_SERVICE}
          client: {{image: {BASE}, command: [sleep, infinity]}}
        acceptance:
          criteria:
            - {{id: nothing-leaves, check: {{type: isolation}}}}
            - {{id: client-only, check: {{type: isolation, services: [client]}}}}
        """,
        name=name,
    )


def test_the_isolation_check_is_met_on_an_isolated_sandbox(
    scenario: ScenarioFactory, run: Callable[..., RunResult], host_listener: int
) -> None:
    """Even with a listener on every address of the host, nothing answers from inside."""
    result = run(isolation_scenario(scenario, "isolated", "iso-check"))
    assert result.error is None, result.error
    whole, client = result.criteria
    assert (whole.passed, whole.status) == (True, "met"), whole.evidence
    assert whole.measured == {"server": "isolated", "client": "isolated"}
    evidence = whole.evidence.splitlines()
    assert evidence[0] == "isolated: nothing can leave from services server, client"
    for address in host_addresses():  # every address of the host was tried, and refused
        assert f"{address}:80" in whole.evidence
    assert "example.com not resolved" in whole.evidence
    assert client.passed and client.measured == {"client": "isolated"}


def test_the_isolation_check_is_not_met_on_egress_and_sends_nothing(
    scenario: ScenarioFactory, run: Callable[..., RunResult]
) -> None:
    result = run(isolation_scenario(scenario, "egress", "egress-check"))
    assert result.error is None, result.error
    whole = result.criteria[0]
    assert (whole.passed, whole.status) == (False, "not_met")
    assert "`sandbox.network: egress`" in whole.evidence
    assert whole.evidence.count("nothing was sent from it") == 2  # a route out: not tried
    assert "tried" not in whole.evidence and "example.com" not in whole.evidence


def test_the_isolation_check_catches_an_internal_network_that_reaches_the_host(
    client: docker.DockerClient, tmp_path: Path
) -> None:
    """The failure the check exists for: a plain internal bridge holds its gateway address on
    the host (moby/moby 47356), so the host can be reached from inside. The check, run from a
    helper in a container's namespace on such a network, is not met, naming the gateway."""
    from poc_runner.backends.docker import netprobe
    from poc_runner.backends.docker.execute import execute
    from poc_runner.checks.evidence import Evidence
    from poc_runner.checks.isolation import judge_isolation
    from poc_runner.model.checks import IsolationCheck

    marker = {"io.poc-runner.test": "isolation-check"}
    network = client.networks.create(
        f"poc-test-{tmp_path.name[-12:]}", internal=True, labels=marker
    )
    made: list[Container] = []
    try:
        service = client.containers.run(
            BASE, ["sleep", "infinity"], detach=True, network=network.name, labels=marker
        )
        made.append(service)

        class OnThisNetwork:
            scenario = SimpleNamespace(
                services={"app": None}, sandbox=SimpleNamespace(network="isolated")
            )

            def probe_within(self, _service: str, argv: list[str], timeout: float) -> Outcome:
                if not made[1:]:
                    helper = netprobe.create_within(client, service, None, marker)
                    made.append(helper)
                    helper.start()
                return execute(made[1], argv, timeout=timeout)

            def isolation_targets(self) -> Targets:
                return Targets(host_addresses(), netprobe.gateways(network))

        evidence = Evidence({}, tmp_path, tmp_path, OnThisNetwork())  # type: ignore[arg-type]
        judged = judge_isolation(IsolationCheck(type="isolation"), evidence)
    finally:
        for container in made:
            container.remove(force=True)
        network.remove()
    assert not judged.passed, judged.evidence
    (gateway,) = (config["Gateway"] for config in network.attrs["IPAM"]["Config"])
    # Before Docker 25 the container's default route goes through it: not met on that alone;
    # from 25 on there is no default route, and the gateway answers when tried.
    assert gateway in judged.measured["app"] and "a way out" in judged.evidence


def test_the_host_reader_sees_the_resolvers_the_engine_forwards_to(
    client: docker.DockerClient,
) -> None:
    """CVE-2024-29018 turns on the resolvers the engine forwards a sandbox's lookups to: the
    reader on the host's network must see the engine's own choice (systemd-resolved's upstream
    list in place of its stub), and whether a lookup would leave is decided from them."""
    from poc_runner.backends.docker import netprobe

    marker = {"io.poc-runner.test": "isolation-resolvers"}
    reader = netprobe.create_reader(client, None, marker)
    try:
        reader.start()
        addresses, resolvers = netprobe.read_host(reader)
    finally:
        reader.remove(force=True)
    conf = Path("/etc/resolv.conf").read_text()
    if "127.0.0.53" in conf and Path("/run/systemd/resolve/resolv.conf").exists():
        conf = Path("/run/systemd/resolve/resolv.conf").read_text()
    named = [line.split()[1] for line in conf.splitlines() if line.startswith("nameserver ")]
    assert resolvers == named
    assert set(host_addresses()) <= set(addresses)
    version = str(client.version()["Version"])
    loopback = any(r.startswith("127.") or r == "::1" for r in resolvers)
    fixed = netprobe.lookup_leaks(version, ["127.0.0.1"]) is None
    assert (netprobe.lookup_leaks(version, resolvers) is not None) is (loopback and not fixed)


def test_the_isolation_check_on_a_sandbox_left_up_runs_again_and_leaves_nothing(
    scenario: ScenarioFactory, client: docker.DockerClient, tmp_path: Path
) -> None:
    """`poc up`, then `poc run --reuse` twice: each run's helpers go with the run, the
    sandbox's own containers stay until `poc down`."""
    from .conftest import poc

    path = isolation_scenario(scenario, "isolated", "iso-reuse")
    try:
        assert poc("up", str(path)).returncode == 0
        kept = {
            c.id
            for c in client.containers.list(filters={"label": "io.poc-runner.scenario=iso-reuse"})
        }
        for _ in range(2):
            again = poc("run", "--reuse", str(path), "--out", str(tmp_path / "runs"))
            assert again.returncode == 0, again.stdout + again.stderr
            now = {
                c.id
                for c in client.containers.list(
                    all=True, filters={"label": "io.poc-runner.scenario=iso-reuse"}
                )
            }
            assert now == kept
    finally:
        poc("down", str(path))


BUILD_PROBE = """\
import json, os, socket
found = {}
for address in json.loads(os.environ["TARGETS"]):
    try:
        socket.create_connection((address, int(os.environ["PORT"])), timeout=2).close()
        found[address] = "open"
    except OSError as exc:
        found[address] = type(exc).__name__
print(json.dumps(found))
"""


@pytest.mark.parametrize(("build_network", "reached"), [(None, False), ("default", True)])
def test_an_isolated_sandbox_builds_its_images_without_a_network(
    scenario: ScenarioFactory,
    run: Callable[..., RunResult],
    tmp_path: Path,
    host_listener: int,
    build_network: str | None,
    reached: bool,
) -> None:
    """A Dockerfile's RUN tries the host's listener on every host address while the image is
    built: nothing answers, as for the run itself. The control, `build.network: default`
    (what a build that downloads asks for), reaches it, so the probe can tell."""
    network = f", network: {build_network}" if build_network else ""
    targets = host_addresses()  # once: other bridges come and go meanwhile
    path = scenario(
        f"""\
        services:
          app:
            build: {{context: app{network}, args: {{TARGETS: '{json.dumps(targets)}', PORT: "{host_listener}"}}}}
            command: [sleep, infinity]
        steps: [{{name: probe, service: app, run: cat /probe.json}}]
        """,
        name=f"build-{build_network or 'isolated'}",
        files={
            "app/probe.py": BUILD_PROBE,
            "app/Dockerfile": f"FROM {BASE}\nARG TARGETS\nARG PORT\nCOPY probe.py /probe.py\n"
            "RUN python3 /probe.py > /probe.json\n",
        },
    )
    found = probed(tmp_path, run(path))
    assert set(found) == set(targets)
    opened = [address for address, outcome in found.items() if outcome == "open"]
    assert bool(opened) is reached, found


def test_a_build_that_fails_without_a_network_says_how_to_allow_it(
    scenario: ScenarioFactory, run: Callable[..., RunResult], host_listener: int
) -> None:
    address = host_addresses()[0]
    connect = f"import socket; socket.create_connection(('{address}', {host_listener}), 2)"
    path = scenario(
        """\
        services:
          app: {build: app, command: [sleep, infinity]}
        steps: [{name: nothing, service: app, run: "true"}]
        """,
        name="build-offline",
        files={"app/Dockerfile": f'FROM {BASE}\nRUN python3 -c "{connect}"\n'},
    )
    result = run(path)
    assert result.verdict == "error"
    assert result.error is not None
    assert "building the image of service 'app'" in result.error
    assert "without a network" in result.error
    assert "network: default" in result.error


def test_an_add_of_a_url_is_refused_before_the_engine_could_fetch_it(
    scenario: ScenarioFactory, client: docker.DockerClient, tmp_path: Path
) -> None:
    """The engine fetches an ADD's URL itself, from the host, even in a build without a
    network: shown on the engine directly with a listener on the host's loopback; `poc run` of
    a scenario whose Dockerfile does it is refused (exit 2) and the listener is never asked."""
    import http.server
    import threading

    asked: list[str] = []

    class Served(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"fetched\n")

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Served)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dockerfile = f"FROM {BASE}\nADD http://127.0.0.1:{server.server_port}/x /x\n"
    try:
        (tmp_path / "ctx").mkdir()
        (tmp_path / "ctx" / "Dockerfile").write_text(dockerfile)
        image, _ = client.images.build(
            path=str(tmp_path / "ctx"),
            network_mode="none",
            labels={"io.poc-runner.test": "add-url"},
            rm=True,
            forcerm=True,
        )
        client.images.remove(image.id, force=True)
        assert asked == ["/x"], "the engine fetched it although the build had no network"
        path = scenario(
            """\
            services:
              app: {build: app, command: [sleep, infinity]}
            steps: [{name: nothing, service: app, run: "true"}]
            """,
            name="build-add-url",
            files={"app/Dockerfile": dockerfile},
        )
        from .conftest import poc

        refused = poc("run", str(path), "--out", str(tmp_path / "runs"))
    finally:
        server.shutdown()
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "is remote: the engine fetches it itself" in refused.stdout + refused.stderr
    assert asked == ["/x"], "poc run asked nothing"
