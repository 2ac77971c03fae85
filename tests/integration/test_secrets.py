"""A secret's value, in none of the forms a product may print it in, appears in anything a run
writes: step output, service logs, artifacts and their names, result.json, reports, history, the
terminal; yet a check can still ask whether the step printed it. And a run without it does not
start."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from urllib.parse import quote

from .conftest import BASE, ScenarioFactory, poc

VALUE = "Tok-9f8e+7d6c=5b4A"  # mixed case, and "+" and "=" for a URL encoding of its own
FORMS = {
    "value": VALUE,
    "upper-case": VALUE.upper(),
    "lower-case": VALUE.lower(),
    "hex": VALUE.encode().hex(),
    "HEX": VALUE.encode().hex().upper(),
    "URL-encoded": quote(VALUE, safe=""),
    "url-encoded": "Tok-9f8e%2b7d6c%3d5b4A",  # lower-case hex digits
    "base64": base64.b64encode(VALUE.encode()).decode(),
}
PRINT_EVERY_FORM = """\
echo "stdout $TOKEN"
echo "stderr $TOKEN" >&2
printf '{"t": "%s"}\\n' "$TOKEN" > /out/t.json
echo "$TOKEN" > "/out/$TOKEN.txt"
mkdir "/out/in-$TOKEN" && echo report > "/out/in-$TOKEN/report.txt"
python3 - <<'PY'
import base64, os, re, urllib.parse
value = os.environ["TOKEN"]
encoded = urllib.parse.quote(value, safe="")
print("hex", value.encode().hex())
print("HEX", value.encode().hex().upper())
print("url", encoded)
print("url", re.sub("%..", lambda escape: escape.group().lower(), encoded))
print("upper", value.upper())
print("lower", value.lower())
print("base64", base64.b64encode(value.encode()).decode())
PY
"""


def test_secret_values_are_masked_in_every_output_and_form(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = scenario(
        f"""\
        secrets: [POC_TEST_TOKEN]
        services:
          app:
            image: {BASE}
            command: [sh, -c, "echo service sees $$TOKEN; sleep infinity"]
            environment: {{TOKEN: "${{POC_TEST_TOKEN}}"}}
            tmpfs: [/out]
        steps:
          - name: leak
            service: app
            run: {json.dumps(PRINT_EVERY_FORM)}
            artifacts: [/out, "/out/in-${{POC_TEST_TOKEN}}/report.txt"]
        acceptance:
          criteria:
            - {{id: shows-token, check: {{type: output, step: leak, contains: "stdout"}}}}
            - {{id: prints-token, check: {{type: output, step: leak, contains: "${{POC_TEST_TOKEN}}"}}}}
            - {{id: in-context, check: {{type: output, step: leak, contains: "stdout ${{POC_TEST_TOKEN}}"}}}}
            - {{id: hides-token, check: {{type: output, step: leak, not_contains: "${{POC_TEST_TOKEN}}"}}}}
        """
    )
    out = tmp_path / "runs"
    env = {**os.environ, "POC_TEST_TOKEN": VALUE, "POC_HISTORY": str(tmp_path / "history.sqlite")}
    done = poc("run", str(path), "--out", str(out), env=env)
    assert done.returncode == 1, done.stderr  # `hides-token` fails: the step printed the token
    for form in FORMS.values():
        assert form not in done.stdout + done.stderr, form

    written = [file for file in tmp_path.rglob("*") if file.is_file()]
    names = {file.name for file in written}
    assert names >= {
        "result.json",
        "report.html",
        "report.md",
        "junit.xml",
        "leak.out",
        "leak.err",
        "app.log",
        "t.json",
    }
    assert "***.txt" in names  # the artifact named after the token
    for file in written:
        named, content = str(file.relative_to(tmp_path)), file.read_bytes()
        for kind, form in FORMS.items():
            assert form not in named, (kind, named)
            assert form.encode() not in content, (kind, file)

    (folder,) = out.glob("probe/*")
    assert (folder / "steps/leak.out").read_text() == (
        "stdout ***\nhex ***\nHEX ***\nurl ***\nurl ***\nupper ***\nlower ***\nbase64 ***\n"
    )
    assert (folder / "artifacts/out/***.txt").read_text() == "***\n"
    assert (folder / "artifacts/out/in-***/report.txt").read_text() == "report\n"
    assert "service sees ***" in (folder / "logs/app.log").read_text()
    criteria = {c["id"]: c for c in json.loads((folder / "result.json").read_text())["criteria"]}
    passed = {name: criterion["passed"] for name, criterion in criteria.items()}
    assert passed == {
        "shows-token": True,
        "prints-token": True,
        "in-context": True,
        "hides-token": False,
    }
    assert criteria["hides-token"]["expected"] == {"not_contains": "***"}


def test_a_missing_secret_stops_the_run_before_anything_starts(
    scenario: ScenarioFactory, tmp_path: Path
) -> None:
    path = scenario(
        f"""\
        secrets: [POC_TEST_ABSENT]
        services: {{app: {{image: {BASE}, environment: {{T: "${{POC_TEST_ABSENT}}"}}}}}}
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "POC_TEST_ABSENT"}
    done = poc("run", str(path), "--out", str(tmp_path / "runs"), env=env)
    assert done.returncode == 2
    assert "secret 'POC_TEST_ABSENT' is not set" in done.stderr
    assert not (tmp_path / "runs").exists()
