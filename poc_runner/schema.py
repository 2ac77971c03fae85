"""The scenario format as JSON Schema, generated from the models so the two cannot drift.

A copy is committed at schema/scenario-v1.schema.json for editors; a test keeps it identical.
"""

from __future__ import annotations

import json
from typing import Any

from poc_runner.model import Scenario


def scenario_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "poc-runner scenario (apiVersion poc-runner/v1)",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def scenario_schema_json() -> str:
    return json.dumps(scenario_schema(), indent=2, sort_keys=True) + "\n"
