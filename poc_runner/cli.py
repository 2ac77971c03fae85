"""The `poc` command: parses arguments and calls the library; nothing else lives here.

Heavy modules (pydantic, the models, YAML) are imported inside the commands, so `poc --help`
answers at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from poc_runner import __version__
from poc_runner.errors import ExitCode, PocError
from poc_runner.interpolation import NAME


class _Poc(click.Group):
    """Turns every outcome into the documented exit code and a message, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PocError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(ExitCode.INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("POC_DEBUG"):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in poc-runner; set POC_DEBUG=1 to see the traceback and report it.",
                err=True,
            )
            ctx.exit(ExitCode.SANDBOX_ERROR)


@click.group(cls=_Poc, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="poc")
def cli() -> None:
    """Prove a product works on a prospect's own data.

    A scenario file (YAML) describes the prospect's job, their sample data, the services to
    start, the steps that do the job and the acceptance criteria. poc-runner checks it, runs it in
    isolated Docker containers and scores it.

    Exit codes: 0 pass or valid, 1 verdict fail, 2 invalid input, 3 sandbox error,
    130 interrupted.
    """


def _parse_vars(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not NAME.fullmatch(name):
            raise click.BadParameter(f"{item!r} is not NAME=VALUE (NAME: letters, digits and _)")
        parsed[name] = value
    return parsed


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: FILE:LINE:COL lines; json: a list of objects; github: workflow annotations.",
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    callback=_parse_vars,
    help="Set or override a ${NAME} variable (repeatable).",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.pass_context
def validate(
    ctx: click.Context,
    paths: tuple[str, ...],
    output_format: str,
    variables: dict[str, str],
    strict: bool,
) -> None:
    """Check scenario files without starting anything.

    Each PATH is a scenario file, or a folder searched for scenario.yaml / scenario.yml (hidden
    folders, node_modules and runs are skipped). Every problem in every file is reported, with
    its file, line, column and key path. Exits 0 when all files are valid, 2 otherwise.
    """
    from poc_runner.diagnostics import count_errors, render
    from poc_runner.validation import validate_paths

    results = validate_paths(paths, variables)
    diagnostics = [d for result in results for d in result.diagnostics]
    if diagnostics or output_format == "json":
        click.echo(render(diagnostics, output_format))
    errors = count_errors(diagnostics)
    warnings = len(diagnostics) - errors
    valid = sum(result.ok for result in results)
    click.echo(
        f"{len(results)} file{'s' * (len(results) != 1)} checked: {valid} valid,"
        f" {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}",
        err=True,
    )
    failed = errors > 0 or valid < len(results) or (strict and warnings > 0)
    ctx.exit(ExitCode.INVALID_INPUT if failed else ExitCode.PASSED)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format.

    Point your editor's YAML language server at it for completion and inline errors, e.g.
    `poc schema > scenario.schema.json`.
    """
    from poc_runner.schema import scenario_schema_json

    click.echo(scenario_schema_json(), nl=False)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
def init(folder: Path) -> None:
    """Create a new scenario in FOLDER, ready to edit.

    The folder's name is the scenario's name (lowercase letters, digits and dashes). The file's
    comments walk you through the job statement, the stakeholders and the acceptance criteria.
    Refuses to touch a folder that already has files in it.
    """
    from poc_runner.scaffold import scaffold

    created = scaffold(folder)
    for path in created:
        click.echo(f"created {path}")
    click.echo(f"\nNext: edit {folder / 'scenario.yaml'}, then run `poc validate {folder}`.")


def main() -> None:
    cli(prog_name="poc")
