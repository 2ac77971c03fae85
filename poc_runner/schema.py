"""The scenario format and the run result as JSON Schema, generated from the code so neither
can drift.

Copies are committed at schema/scenario-v1.schema.json (for editors) and
schema/result-v1.schema.json (for whoever reads result.json); tests keep them identical.
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


def result_schema() -> dict[str, Any]:
    from pydantic import TypeAdapter

    from poc_runner.result import SCHEMA_VERSION, RunResult

    schema = TypeAdapter(RunResult).json_schema(mode="serialization")  # every key is written
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"poc-runner run result (schema_version {SCHEMA_VERSION})",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def result_schema_json() -> str:
    return json.dumps(result_schema(), indent=2, sort_keys=True) + "\n"
