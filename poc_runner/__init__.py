"""poc-runner: prove a product works on a prospect's own data, in an isolated sandbox.

The public Python API (docs/python-api.md) is exactly the names in `__all__`; every other
module is private. `import poc_runner` is cheap: it imports no docker SDK, no pydantic models
and no click, and each public name loads on first use (PEP 562).
"""

import sys as _sys
import types as _types
from importlib import import_module as _import_module

TYPE_CHECKING = False  # as typing's, without importing typing (mypy reads the name alike)

__version__ = "0.1.0"

__all__ = [
    "CriterionResult",
    "Diagnostic",
    "Event",
    "ExecResult",
    "Interrupted",
    "InvalidInput",
    "LiveSandbox",
    "OnEvent",
    "PocError",
    "RunResult",
    "SandboxError",
    "Scenario",
    "StepRecord",
    "Validation",
    "Verdict",
    "VerdictFailed",
    "__version__",
    "load",
    "load_result",
    "run",
    "run_all",
    "sandbox",
    "validate",
]

_HOME = {  # public name -> the private module that defines it
    "CriterionResult": "poc_runner.result",
    "Diagnostic": "poc_runner.diagnostics",
    "Event": "poc_runner.events",
    "ExecResult": "poc_runner._sandbox",
    "InvalidInput": "poc_runner.errors",
    "Interrupted": "poc_runner.errors",
    "LiveSandbox": "poc_runner._sandbox",
    "OnEvent": "poc_runner.events",
    "PocError": "poc_runner.errors",
    "RunResult": "poc_runner.result",
    "SandboxError": "poc_runner.errors",
    "Scenario": "poc_runner.model",
    "StepRecord": "poc_runner.result",
    "Validation": "poc_runner.validation",
    "Verdict": "poc_runner.result",
    "VerdictFailed": "poc_runner.errors",
    "load": "poc_runner._api",
    "load_result": "poc_runner._api",
    "run": "poc_runner._api",
    "run_all": "poc_runner._api",
    "sandbox": "poc_runner._sandbox",
    "validate": "poc_runner._api",
}

if TYPE_CHECKING:
    from poc_runner._api import load, load_result, run, run_all, validate
    from poc_runner._sandbox import ExecResult, LiveSandbox, sandbox
    from poc_runner.diagnostics import Diagnostic
    from poc_runner.errors import Interrupted, InvalidInput, PocError, SandboxError, VerdictFailed
    from poc_runner.events import Event, OnEvent
    from poc_runner.model import Scenario
    from poc_runner.result import CriterionResult, RunResult, StepRecord, Verdict
    from poc_runner.validation import Validation


if not TYPE_CHECKING:  # hidden from type checkers: a name not listed above is an error there

    def __getattr__(name: str) -> object:
        """A public name, imported on first use and kept."""
        home = _HOME.get(name)
        if home is None:
            raise AttributeError(f"module 'poc_runner' has no attribute {name!r}")
        value = getattr(_import_module(home), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(_types.ModuleType):
    """`sandbox` is a public function, and also the name of a private package (sandbox/).
    Python sets a submodule as an attribute of its package once it is imported; here that
    would replace the function, so it is not done for that one (its modules are reached by
    import, `from poc_runner.sandbox.labels import new_run_id`, as everywhere)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "sandbox" and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
del TYPE_CHECKING  # the package's names are __all__'s and private ones
