"""The scenario format (spec: ../shared/spec/scenario-v1.md) as pydantic models."""

from poc_runner.model.scenario import API_VERSION, Criterion, Scenario, Step
from poc_runner.model.services import Service

__all__ = ["API_VERSION", "Criterion", "Scenario", "Service", "Step"]
