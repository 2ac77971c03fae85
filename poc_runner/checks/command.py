"""`command` checks (spec, "Check types"): a custom check script, run in a service of the
sandbox, passes when it exits 0.

For what the other check types cannot express: the script asks the product whatever it needs,
in the product's own terms. `run` is read as a step's is (text through `sh -c`, a list as the
argv itself), with the service's environment; what it prints is kept as the evidence.
"""

from __future__ import annotations

from poc_runner.checks import sandboxed
from poc_runner.checks.evidence import Evidence, Judgement, excerpt
from poc_runner.model.checks import CommandCheck
from poc_runner.plan import command_argv


def judge_command(check: CommandCheck, evidence: Evidence) -> Judgement:
    if evidence.sandbox is None:
        return sandboxed.not_running(0)
    outcome = sandboxed.run_in(evidence.sandbox, check.service, command_argv(check.run), 0)
    if isinstance(outcome, Judgement):
        return outcome
    where = f"check command in service {check.service!r}"
    if outcome.timed_out:
        return sandboxed.timed_out(where, 0)
    printed = sandboxed.output(outcome)
    said = f": {excerpt(printed)}" if printed else " and printed nothing"
    return Judgement(
        outcome.exit_code == 0,
        outcome.exit_code,
        0,
        f"{where} exited with {outcome.exit_code}{said}",
    )
