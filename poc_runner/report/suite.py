"""One report of a suite run in parts: `poc report --merge DIR... --out DIR`.

A suite split with `poc run --shard i/n` across CI machines comes back as several `--out`
folders; merged, they read as one: `index.html` (self-contained, the reports' CSP: one line
per run with its verdict and score, linking its own report.html, totals first), `junit.xml`
(one testsuite per run, as CI test reporters read it) and `suite.json` (the same in a stable
shape). The verdict of the whole is the worst of its runs', as for `poc run`; a suite merged
incomplete (`--allow-incomplete`: scenarios missing, run twice or foreign, shards.check) says
so in the first line of each, and one with scenarios missing is no pass: its verdict is
`error`, as a part that never reported is the CI's failure, not the product's.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from poc_runner.atomic import write_atomic
from poc_runner.errors import InvalidInput
from poc_runner.report.junit import render_suites
from poc_runner.report.page import e, page
from poc_runner.report.quantities import readable, score_text
from poc_runner.result import RunResult, Verdict, load_result
from poc_runner.shards import Coverage, check

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Member:
    """One run of the suite, and where its report is."""

    result: RunResult
    folder: Path


def collect(folders: list[Path]) -> list[Member]:
    """Every run under the folders (each run's result.json), once each, by scenario then time."""
    found: dict[str, Member] = {}
    for folder in folders:
        if not folder.is_dir():
            raise InvalidInput(f"{folder} is not a folder of results (`poc run --out` writes one)")
        for path in sorted(folder.rglob("result.json")):
            result = load_result(path)
            found.setdefault(result.run_id, Member(result, path.parent))
    if not found:
        raise InvalidInput(
            f"no run results (result.json) under {', '.join(map(str, folders))}: give the"
            " folders `poc run --out` wrote"
        )
    return sorted(found.values(), key=lambda m: (m.result.scenario, m.result.started_at))


def coverage(folders: list[Path], members: list[Member]) -> Coverage:
    """How the runs found cover the suite the folders' shard records name (shards.check)."""
    runs: dict[str, list[tuple[str, Path]]] = {}
    for member in members:
        scenario_file = next(iter(member.result.inputs.files.values()), "")  # recorded first
        runs.setdefault(member.result.scenario, []).append((scenario_file, member.folder))
    return check(folders, runs)


def verdict_of(members: list[Member], covered: Coverage | None = None) -> Verdict:
    """The suite's verdict: the worst of its runs' (error, then fail, then pass); `error`
    when scenarios of the suite have no run."""
    if covered is not None and covered.missing:
        return Verdict.ERROR
    return Verdict.worst(member.result.verdict for member in members)


def write_suite(members: list[Member], out: Path, covered: Coverage) -> list[Path]:
    """index.html, junit.xml and suite.json in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    return [
        write_atomic(out / "index.html", _index(members, out, covered)),
        write_atomic(out / "junit.xml", render_suites([m.result for m in members])),
        write_atomic(out / "suite.json", _suite_json(members, out, covered)),
    ]


def seconds(members: list[Member]) -> dict[str, float]:
    """Each scenario's wall time in these runs (its last judged run's), for a durations file."""
    found: dict[str, float] = {}
    for member in members:  # by scenario, then time: the last one counts
        result = member.result
        if result.verdict is not Verdict.ERROR and result.finished_at:
            took = datetime.fromisoformat(result.finished_at) - datetime.fromisoformat(
                result.started_at
            )
            found[result.scenario] = took.total_seconds()
    return found


def incomplete_line(covered: Coverage) -> str | None:
    """The first line of an incomplete suite's report: what it lacks."""
    return None if covered.complete else f"Incomplete suite: {covered.said()}"


def _link(member: Member, out: Path) -> str:
    """The run's report.html, relative to the merged report, so the folders move together."""
    return Path(os.path.relpath(member.folder / "report.html", out.resolve())).as_posix()


def _totals(members: list[Member]) -> dict[str, int]:
    counted = {str(v): sum(m.result.verdict is v for m in members) for v in Verdict}
    return {"runs": len(members), **counted}


def _suite_json(members: list[Member], out: Path, covered: Coverage) -> str:
    body = {
        "schema_version": SCHEMA_VERSION,
        "incomplete": incomplete_line(covered),
        "verdict": str(verdict_of(members, covered)),
        "totals": _totals(members),
        "suite": covered.suite,
        "missing": covered.missing,
        "doubled": covered.doubled,
        "foreign": covered.foreign,
        "runs": [
            {
                "scenario": m.result.scenario,
                "run_id": m.result.run_id,
                "verdict": str(m.result.verdict),
                "score": m.result.score,
                "pass_score": m.result.pass_score,
                "criteria_met": sum(c.passed for c in m.result.criteria),
                "criteria": len(m.result.criteria),
                "error": m.result.error,
                "report": _link(m, out),
            }
            for m in members
        ],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def _index(members: list[Member], out: Path, covered: Coverage) -> str:
    verdict, totals = verdict_of(members, covered), _totals(members)
    counted = ", ".join(f"{totals[str(v)]} {v.word}" for v in Verdict if totals[str(v)])
    rows = "".join(_row(member, out) for member in members)
    lacking = incomplete_line(covered)
    body = (
        (f'<p class="incomplete"><strong>{e(lacking)}</strong></p>' if lacking else "")
        + f'<p class="eyebrow">Suite of {totals["runs"]} runs</p>'
        f'<section class="hero v-{e(verdict)}" aria-label="Verdict"><div class="hero-main">'
        f'<div class="verdict">{e(verdict.word)}</div><p class="why">{e(counted)}</p>'
        "</div></section>"
        "<section><h2>Runs</h2><table><thead><tr><th>Scenario</th><th>Verdict</th>"
        f"<th>Score</th><th>Criteria met</th><th>Run</th></tr></thead><tbody>{rows}"
        "</tbody></table></section>"
    )
    whole = " (incomplete)" if lacking else ""
    return page(f"{verdict.word}: suite of {totals['runs']} runs{whole}", body)


def _row(member: Member, out: Path) -> str:
    result = member.result
    met = sum(c.passed for c in result.criteria)
    tone = "ok" if result.verdict is Verdict.PASS else "bad"
    return (
        f"<tr><td>{e(result.title or result.scenario)}</td>"
        f'<td><span class="{tone}">{e(result.verdict.word)}</span></td>'
        f"<td>{e(score_text(result.score))} (needs {e(readable(result.pass_score))})</td>"
        f"<td>{met} of {len(result.criteria)}</td>"
        f'<td><a href="{e(_link(member, out))}">{e(result.run_id)}</a></td></tr>'
    )
