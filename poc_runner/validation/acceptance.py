"""The criteria add up to a proof: a score can be computed, and every stakeholder is served.

A criterion that proves nothing to anyone, or a stakeholder no criterion speaks to, is legal but
weakens the demo, so those are warnings; a score that cannot be computed is an error.
"""

from __future__ import annotations

from poc_runner.model import Scenario
from poc_runner.validation.findings import Findings


def check_acceptance(scenario: Scenario, findings: Findings) -> None:
    criteria = scenario.acceptance.criteria
    if not criteria:
        findings.warning(
            ("acceptance",),
            "no acceptance criteria: a run can show its steps but cannot prove the job is done",
            "no-criteria",
        )
        return
    if sum(c.weight for c in criteria) == 0:
        findings.error(
            ("acceptance", "criteria"),
            "every criterion has weight 0, so no score can be computed; give one a weight",
            "score",
        )
    roles = scenario.stakeholder_roles
    served = {role for criterion in criteria for role in criterion.for_}
    for i, criterion in enumerate(criteria):
        if roles and not criterion.for_:
            findings.warning(
                ("acceptance", "criteria", i, "id"),
                f"criterion {criterion.id!r} is not `for` any stakeholder; say whose progress it"
                f" proves (one of: {', '.join(roles)})",
                "stakeholder",
            )
    for i, role in enumerate(roles):
        if role not in served:
            findings.warning(
                ("job", "stakeholders", i, "role"),
                f"no criterion is `for` {role!r}; the report will show them nothing that answers"
                " what they want",
                "stakeholder",
            )
