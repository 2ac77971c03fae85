"""The scenario format (spec: ../shared/spec/scenario-v1.md) as pydantic models."""

from poc_runner.model.scenario import Scenario
from poc_runner.model.services import Service

__all__ = ["Scenario", "Service"]
