"""The `poc` command: parses arguments and calls the library; nothing else lives here.

Heavy modules (pydantic, the models, YAML) are imported inside the commands, so `poc --help`
answers at once.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from poc_runner import __version__
from poc_runner.errors import ExitCode, PocError, world_failure
from poc_runner.interpolation import NAME
from poc_runner.masking import SECRETS
from poc_runner.pipes import readers_may_leave
from poc_runner.settings import DEBIAN_MIRROR, debug
from poc_runner.setup import IMAGES, PREFIX, REGISTRY_BASE

if TYPE_CHECKING:
    from poc_runner.backend import Swept
    from poc_runner.pipeline import Finished


class _Poc(click.Group):
    """Turns every outcome into the documented exit code and a message, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PocError as exc:
            click.echo(SECRETS.mask(f"error: {exc}"), err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(ExitCode.INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            known = world_failure(exc)  # the engine, the disk, permissions: not a bug
            if debug():
                raise
            if known is not None:
                click.echo(SECRETS.mask(f"error: {known}"), err=True)
                ctx.exit(known.exit_code)
            click.echo(
                SECRETS.mask(f"internal error: {type(exc).__name__}: {exc}\n")
                + "This is a bug in poc-runner; set POC_DEBUG=1 to see the traceback and report"
                " it.",
                err=True,
            )
            ctx.exit(ExitCode.SANDBOX_ERROR)


def _use_context(_ctx: click.Context, _param: click.Parameter, name: str | None) -> str | None:
    """`--context NAME` names the engine for this command and the docker CLI it runs (`poc
    shell`), as the docker CLI's own option does: it wins over DOCKER_HOST."""
    if name:
        os.environ["DOCKER_CONTEXT"] = name
        os.environ.pop("DOCKER_HOST", None)
    return name


@click.group(cls=_Poc, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="poc")
@click.option(
    "--context",
    metavar="NAME",
    callback=_use_context,
    expose_value=False,
    is_eager=True,
    help="The Docker context of the engine to use (`docker context ls`); else DOCKER_HOST,"
    " DOCKER_CONTEXT or the current context, as the docker CLI chooses.",
)
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


_VAR_OPTION = click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    callback=_parse_vars,
    help="Set or override a ${NAME} variable (repeatable).",
)

_RESULTS_OPTION = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Root folder for results: OUT/<scenario>/<UTC time>-<id>/.",
)


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
@_VAR_OPTION
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
    from poc_runner.diagnostics import count_errors, render, tally
    from poc_runner.validation import validate_paths

    results = validate_paths(paths, variables)
    diagnostics = [d for result in results for d in result.diagnostics]
    if diagnostics or output_format == "json":
        click.echo(render(diagnostics, output_format))
    valid = sum(result.ok for result in results)
    click.echo(tally(len(results), valid, diagnostics), err=True)
    errors = count_errors(diagnostics)
    warnings = len(diagnostics) - errors
    failed = errors > 0 or valid < len(results) or (strict and warnings > 0)
    ctx.exit(ExitCode.INVALID_INPUT if failed else ExitCode.PASSED)


@cli.command()
@click.option("--result", is_flag=True, help="The schema of result.json instead.")
def schema(result: bool) -> None:
    """Print the JSON Schema of the scenario format (or, with --result, of result.json).

    Point your editor's YAML language server at it for completion and inline errors, e.g.
    `poc schema > scenario.schema.json`.
    """
    from poc_runner.schema import result_schema_json, scenario_schema_json

    click.echo(result_schema_json() if result else scenario_schema_json(), nl=False)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--from-compose",
    "compose_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Build the scenario on this Compose file (its folder is copied under deploy/).",
)
def init(folder: Path, compose_file: Path | None) -> None:
    """Create a new scenario in FOLDER, ready to edit.

    The folder's name is the scenario's name (lowercase letters, digits and dashes). The file's
    comments walk you through the job statement, the stakeholders and the acceptance criteria.
    With --from-compose, the scenario references a copy of your Compose file, with a smoke
    step for each of its services. Refuses to touch a folder that already has files in it.
    """
    from poc_runner.scaffold import scaffold, scaffold_from_compose

    created = scaffold_from_compose(compose_file, folder) if compose_file else scaffold(folder)
    for path in created:
        click.echo(f"created {path}")
    click.echo(f"\nNext: edit {folder / 'scenario.yaml'}, then run `poc validate {folder}`.")


def _scenario_files(paths: tuple[str, ...]) -> list[Path]:
    from poc_runner.discovery import discover
    from poc_runner.errors import InvalidInput

    found = discover(list(paths))
    if found.problems:
        raise InvalidInput("; ".join(f"{path}: {message}" for path, message in found.problems))
    return found.files


def _one_scenario(path: str) -> Path:
    files = _scenario_files((path,))
    if len(files) != 1:
        from poc_runner.errors import InvalidInput

        raise InvalidInput(f"{path} holds {len(files)} scenarios; name one scenario file")
    return files[0]


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@_RESULTS_OPTION
@_VAR_OPTION
@click.option(
    "--keep",
    is_flag=True,
    help="Leave the sandbox up afterwards, its ports published on 127.0.0.1 as `poc up` does"
    " (remove: poc down).",
)
@click.option(
    "--reuse",
    is_flag=True,
    help="Run the steps and judge the criteria on the sandbox `poc up` or `--keep` left up,"
    " in seconds: only changed data is copied again, and the sandbox stays up. Results are"
    " marked as a reuse: a reused sandbox is not a clean one.",
)
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Run up to N scenarios at once, each in its own sandbox.",
)
@click.option(
    "--shard",
    metavar="I/N",
    help="Run only the I-th of N parts of the scenarios found (1-based, as Playwright's;"
    " N at most their number): the same part on every machine, split by the scenarios' names"
    " alone, or by --shard-durations. OUT records the suite and the part (shard.json), so"
    " `poc report --merge` can check the parts cover it exactly once.",
)
@click.option(
    "--shard-durations",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Balance the shards by these durations (JSON: scenario -> seconds), as written by"
    " `poc report --merge --write-durations FILE`; commit it, so every machine splits alike.",
)
@click.option(
    "--pdf", is_flag=True, help="Also write report.pdf, printed by Chromium (checked first)."
)
@click.pass_context
def run(
    ctx: click.Context,
    paths: tuple[str, ...],
    out: Path,
    variables: dict[str, str],
    keep: bool,
    reuse: bool,
    parallel: int,
    shard: str | None,
    shard_durations: Path | None,
    pdf: bool,
) -> None:
    """Run scenarios in isolated Docker sandboxes and score them.

    Validates every file first (no service starts if one is invalid; the network, made
    meanwhile to save time, is removed), then builds or finds the images, starts the services
    with no route out (not the internet, the LAN or this host), copies the data in read-only,
    runs the steps and judges the criteria. The sandbox is removed afterwards, also on failure,
    Ctrl-C or SIGTERM. While the steps run the services are watched: one that stops is on
    record, one killed for memory, over its disk limit or removed under the run (`poc down`
    during --reuse) is a sandbox error. Each run writes
    result.json (with the variables and files it was given), report.html, report.md,
    junit.xml (with --pdf, report.pdf), steps/, logs/ and artifacts/ under OUT, and is
    recorded in the run history. Exits 0 when every verdict is pass, 1 on a fail, 3 on a
    sandbox error (and, before anything starts, when --pdf finds no Chromium).
    """
    from poc_runner._api import run_all
    from poc_runner._runs import NotWritten
    from poc_runner.progress import for_terminal

    if shard_durations is not None and shard is None:
        raise click.UsageError("--shard-durations balances --shard I/N: give both")
    progress = for_terminal()
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always", NotWritten)  # each run's, not only the first
        try:
            results = run_all(
                paths,
                parallel=parallel,
                shard=shard,
                shard_durations=shard_durations,
                variables=variables,
                out=out,
                history=True,
                reuse=reuse,
                keep=keep,
                pdf=pdf,
                on_event=progress,
            )
        finally:
            progress.close()
            for warning in warned:  # what the library says as Python warnings, said plainly
                click.echo(SECRETS.mask(f"warning: {warning.message}"), err=True)
    from poc_runner.pipeline import exit_code
    from poc_runner.summary import summarize

    for result in results:
        click.echo(SECRETS.mask(summarize(result, str(result.folder))))
        if result.endpoints:
            where = result.scenario_file or result.scenario
            _still_up(where, f"{result.scenario} is still up:", result.endpoints)
    ctx.exit(exit_code(results))


def _warn(run: Finished) -> None:
    """What could not be written beside a run's own files (report.pdf, the history)."""
    for warning in run.warnings:
        click.echo(SECRETS.mask(f"warning: {warning}"), err=True)


def _still_up(path: Path | str, heading: str, endpoints: dict[str, list[str]]) -> None:
    """Where a sandbox left up answers, and the exact commands to use it and remove it."""
    click.echo(heading)
    for service, reach in endpoints.items():
        click.echo(f"  {service}: {', '.join(reach) if reach else 'no published ports'}")
    click.echo(f"  Again: poc run --reuse {path}    Shell: poc shell {path} SERVICE")
    click.echo(f"  Stop:  poc down {path}")


@cli.command()
@click.argument("path", metavar="PATH")
@_VAR_OPTION
def up(path: str, variables: dict[str, str]) -> None:
    """Start a scenario's services for exploring by hand; run no steps.

    Declared `ports` are published on 127.0.0.1 only. The services stay up until
    `poc down PATH`; `poc shell PATH SERVICE` opens a shell in one of them. One sandbox is up
    per scenario: a second `poc up` while one is up, or coming up, is refused, naming it.
    """
    from poc_runner._sandbox import sandbox
    from poc_runner.progress import for_terminal

    progress = for_terminal()
    try:
        started = sandbox(path, variables=variables, on_event=progress)  # left up: no `with`
    finally:
        progress.close()
    _still_up(path, f"{started.scenario.name} is up (run {started.run_id}):", started.endpoints)


@cli.command()
@click.argument("path", metavar="PATH")
@_RESULTS_OPTION
@_VAR_OPTION
def watch(path: str, out: Path, variables: dict[str, str]) -> None:
    """Run the steps and criteria again whenever the scenario, its data or its check scripts
    change, on the sandbox `poc up` (or `poc run --keep`) left up.

    Each round is a `poc run --reuse` (results written and recorded, marked as reused) and
    ends with one screen of summary. A change to the services themselves needs `poc down`
    then `poc up`; the round says so and the watch goes on. Ctrl-C stops watching and leaves
    the sandbox up (exit 130); a sandbox that is gone (`poc down`) stops it too, saying so
    (exit 3). At most 10,000 files of the folder are watched.
    """
    from poc_runner.loop import gone_check
    from poc_runner.loop import watch as keep_watching
    from poc_runner.pipeline import Options
    from poc_runner.summary import summarize

    scenario_file = _one_scenario(path)

    def summary(run: Finished) -> str:
        _warn(run)
        return SECRETS.mask(summarize(run.result, str(run.folder)))

    options, still_up = Options(out, variables), gone_check(scenario_file)
    try:
        keep_watching(scenario_file, options, click.echo, summary, still_up)
    except KeyboardInterrupt:
        from poc_runner.errors import Interrupted

        raise Interrupted(
            f"stopped watching; the sandbox is still up (`poc down {path}`)"
        ) from None


@cli.command()
@click.argument("path", metavar="PATH")
@click.argument("service")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="[-- COMMAND...]")
def shell(path: str, service: str, command: tuple[str, ...]) -> None:
    """Open a shell in SERVICE of a scenario started with `poc up` or `--keep`, or run one
    COMMAND there (after `--`) and exit with its exit code.

    A terminal is used when there is one; without one (a script, CI, a pipe) the shell or the
    command reads this command's input, e.g. `poc shell PATH db -- psql -c 'select 1'`.
    """
    from poc_runner.live import shell as open_shell

    open_shell(_one_scenario(path), service, list(command))


@cli.command()
@click.argument("path", metavar="PATH")
def down(path: str) -> None:
    """Remove the sandbox `poc up` (or `poc run --keep`) left running for PATH."""
    from poc_runner.live import down as stop

    swept = stop(_one_scenario(path))
    click.echo(f"removed {len(swept.removed)} object(s)" if swept.removed else "nothing was up")
    _say_left(swept)
    _fail_on(swept.problems)


@cli.command()
@click.option(
    "--images",
    is_flag=True,
    help="Also remove the images poc-runner built, and the data cache (as --cache).",
)
@click.option(
    "--cache",
    is_flag=True,
    help="Also remove the data cache: the data volumes kept so that later runs on the same"
    " files mount them instead of copying again. Entries a run is using stay.",
)
@click.option(
    "--all",
    "everyone",
    is_flag=True,
    help="Also other users' sandboxes, and objects whose owner cannot be checked from here"
    " (another machine sharing the engine, an earlier boot). Never a run that is provably live.",
)
def clean(images: bool, cache: bool, everyone: bool) -> None:
    """Remove what killed runs left behind, and your `poc up` / `--keep` sandboxes.

    Objects are found by their io.poc-runner.run label; each names the process that owns it,
    and only those whose owner has provably ended are removed (whatever user, home or state
    folder started them), as are the data cache volumes such a run left half filled. Other
    users' sandboxes are left alone unless --all. Kept otherwise, as caches: the data cache
    (removed by --cache or --images), which holds at most $POC_DATA_CACHE_MAX (20g by default;
    the least recently used entries go first), and the images poc-runner built (--images)."""
    from poc_runner.backends import default_engine

    by = "`poc clean --all`" if everyone else "`poc clean`"
    swept = default_engine().sweep(
        include_kept=True, everyone=everyone, images=images, cache=cache, by=by
    )
    for line in swept.removed:
        click.echo(f"removed {line}")
    click.echo(f"{len(swept.removed)} object(s) removed")
    _say_left(swept)
    _fail_on(swept.problems)


def _say_left(swept: Swept) -> None:
    for why, count in swept.left.items():
        click.echo(f"left {count} object(s) of {why}")


def _fail_on(problems: list[str]) -> None:
    if problems:
        from poc_runner.errors import SandboxError

        raise SandboxError("could not remove: " + "; ".join(problems))


@cli.command()
@click.argument("run_dirs", nargs=-1, metavar="[RUN_DIR...]", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["html", "md", "junit", "json", "pdf", "gaps", "gaps-json"]),
    help="html: the prospect's report; md: for email or a pull request (the default); junit:"
    " for CI; json: result.json itself; pdf: report.html printed by Chromium, written to"
    " RUN_DIR/report.pdf unless --out; gaps: the gap list (every criterion not met or close,"
    " with its stakeholders and severity) as CSV, gaps-json: the same as JSON. With --compare:"
    " html (the default) or md.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    help="Write the report to FILE instead of stdout; with --merge, the folder to write into.",
)
@click.option(
    "--compare",
    nargs=2,
    type=click.Path(path_type=Path),
    metavar="RUN_A RUN_B",
    help="Two runs side by side instead (run folders or result.json files): what each was"
    " given, their verdicts, each criterion's figures and the change.",
)
@click.option(
    "--merge",
    is_flag=True,
    help="Read every run under the RUN_DIRs (the --out folders of `poc run --shard` parts)"
    " and write one suite report into the --out folder: index.html, junit.xml, suite.json."
    " The parts must be of one suite and cover it exactly once (else exit 2, naming the"
    " scenarios missing, doubled or foreign). Exits as `poc run` would for the worst verdict.",
)
@click.option(
    "--allow-incomplete",
    is_flag=True,
    help="With --merge: write the report even when parts are missing, doubled or foreign; its"
    " first line says what, and scenarios missing make the suite's verdict error.",
)
@click.option(
    "--write-durations",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="With --merge: record each scenario's duration in FILE (updated in place), for"
    " `poc run --shard I/N --shard-durations FILE`.",
)
@click.pass_context
def report(
    ctx: click.Context,
    run_dirs: tuple[Path, ...],
    report_format: str | None,
    out_path: Path | None,
    compare: tuple[Path, Path] | None,
    merge: bool,
    allow_incomplete: bool,
    write_durations: Path | None,
) -> None:
    """Render a report of a finished run from RUN_DIR/result.json alone.

    RUN_DIR is a run folder (OUT/<scenario>/<UTC time>-<id>/) or its result.json. `poc run`
    already writes report.html, report.md and junit.xml there; this re-renders one of them,
    e.g. after an upgrade of poc-runner, or to hand one to another tool. A PDF needs Chromium
    (Debian's package `chromium`): without it, exit 3 and how to install it.

    With --compare RUN_A RUN_B instead of RUN_DIR: both runs side by side ("7 days against
    14") on one self-contained page, or in Markdown for a pull request. With --merge, every
    run under the RUN_DIRs (the parts of a suite run with `poc run --shard`) in one report.
    """
    from poc_runner._api import load_result
    from poc_runner.report import Format, render, render_comparison, write_pdf

    if merge:
        if out_path is None or compare is not None or not run_dirs:
            raise click.UsageError("--merge reads RUN_DIR... and writes the folder --out DIR")
        _merge(ctx, list(run_dirs), out_path, allow_incomplete, write_durations)
    if allow_incomplete or write_durations is not None:
        raise click.UsageError("--allow-incomplete and --write-durations go with --merge")
    if compare is not None and not run_dirs:
        if report_format not in (None, "html", "md"):
            raise click.UsageError("--compare writes html (the default) or md")
        before, after = (load_result(path) for path in compare)
        _emit(render_comparison(before, after, "md" if report_format else "html"), out_path)
        return
    if len(run_dirs) != 1 or compare is not None:
        raise click.UsageError(
            "name one RUN_DIR, two runs with --compare RUN_A RUN_B, or several with --merge"
        )
    result = load_result(run_dirs[0])
    if report_format == "pdf":
        folder = run_dirs[0] if run_dirs[0].is_dir() else run_dirs[0].parent
        click.echo(f"wrote {write_pdf(result, out_path or folder / 'report.pdf')}", err=True)
        return
    fmt: Format = report_format or "md"  # type: ignore[assignment]  # click.Choice checked it
    _emit(render(result, fmt), out_path)


def _emit(text: str, out_file: Path | None) -> None:
    """A report to stdout, or to `out_file` (whole or not at all)."""
    from poc_runner.report import write_atomic

    if out_file is None:
        click.echo(text, nl=False)
    else:
        write_atomic(out_file, text)
        click.echo(f"wrote {out_file}", err=True)


def _merge(
    ctx: click.Context, folders: list[Path], out: Path, incomplete: bool, durations: Path | None
) -> NoReturn:
    from poc_runner.errors import InvalidInput
    from poc_runner.report.suite import collect, coverage, seconds, verdict_of, write_suite
    from poc_runner.shards import write_durations

    members = collect(folders)
    covered = coverage(folders, members)
    if not covered.complete and not incomplete:
        raise InvalidInput(
            f"the parts given do not cover their suite exactly once: {covered.said()}. Give each"
            " part's --out folder once (a fresh one per part), or --allow-incomplete to report"
            " what is there"
        )
    if not covered.complete:
        click.echo(f"Incomplete suite: {covered.said()}")
    for written in write_suite(members, out, covered):
        click.echo(f"wrote {written}", err=True)
    if durations is not None:
        click.echo(f"wrote {write_durations(durations, seconds(members))}", err=True)
    verdict = verdict_of(members, covered)
    click.echo(f"{len(members)} runs: {verdict.word}")
    ctx.exit(verdict.exit_code)


@cli.command()
@click.argument("name", required=False)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Show at most N runs.",
)
@click.option(
    "--compare",
    nargs=2,
    metavar="RUN_A RUN_B",
    help="Show what RUN_A and RUN_B were given (variables, files' sha256) and, per criterion,"
    " what changed (run ids as listed, or any part only one id holds: a prefix, the random"
    " suffix).",
)
def history(name: str | None, limit: int, compare: tuple[str, str] | None) -> None:
    """List recorded runs, newest first, with verdict, score and trend (or compare two).

    NAME limits the list to one scenario. The trend compares each run's score with the
    scenario's judged run before it: ↑ better, ↓ worse, → the same, · a first run, - a run whose
    sandbox failed (listed, never a reference); "(reused)" marks a run on a sandbox left up
    (`poc run --reuse`). Every `poc run`
    records its runs in an SQLite file: $POC_HISTORY if set, else history.sqlite in the state
    directory ($POC_STATE_DIR, else $XDG_STATE_HOME/poc-runner, else ~/.local/state/poc-runner).
    """
    from poc_runner.history import format_comparison, format_runs, get_run, list_runs

    if compare:
        click.echo(format_comparison(get_run(compare[0]), get_run(compare[1])))
    else:
        click.echo(format_runs(list_runs(name, limit), name))


@cli.command()
@click.argument("images", nargs=-1, type=click.Choice(IMAGES), metavar="[IMAGE...]")
@click.option(
    "--from-registry",
    "registry_base",
    is_flag=False,
    flag_value=REGISTRY_BASE,
    metavar="[IMAGE]",
    help=f"Make the base from a registry image instead of Debian's packages: IMAGE (default"
    f" {REGISTRY_BASE}), with python3 added when it has none; a Debian or Ubuntu image, as the"
    " PostgreSQL image installs Debian's packages. Needs no root and no debootstrap.",
)
@click.option(
    "--prefix",
    default=PREFIX,
    metavar="NAME",
    show_default=True,
    help="Tag the images PREFIX/base:bookworm, PREFIX/postgres:bookworm, PREFIX/pause:1."
    " Runs use poc-runner's; another prefix makes a set of its own beside them (to try a new"
    " base without touching the one in use, say).",
)
@click.option(
    "--mirror",
    metavar="URL",
    envvar=DEBIAN_MIRROR,
    help="The Debian mirror debootstrap downloads from (default: debootstrap's own, or"
    " $POC_DEBIAN_MIRROR).",
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="Make the base and PostgreSQL images again even where their tags exist (to take"
    " Debian's updates, say).",
)
def setup(
    images: tuple[str, ...],
    registry_base: str | None,
    prefix: str,
    mirror: str | None,
    rebuild: bool,
) -> None:
    """Make the images a sandbox needs, on the Docker engine, with no registry.

    IMAGE is base (Debian bookworm with python3: poc-runner's helpers run from it and the
    examples build FROM it), postgres (a PostgreSQL server from Debian's packages, built FROM
    the base) or pause (the network holders'); all three when none is named. The base is made
    from Debian's packages with debootstrap (as root, a minute or two, once) unless
    --from-registry. Each image is kept by its tag: run again, `poc setup` finds them and
    returns at once. Name images before --from-registry: `poc setup base --from-registry`.
    """
    if registry_base in IMAGES:
        raise click.UsageError(
            f"--from-registry takes an image to pull, not {registry_base!r}; to make some of"
            f" the images only, name them first: poc setup {registry_base} --from-registry"
        )
    from poc_runner.backends import default_engine
    from poc_runner.interrupts import sigterm_as_interrupt
    from poc_runner.progress import for_terminal
    from poc_runner.setup.request import Request

    request = Request(images or IMAGES, prefix, registry_base, mirror or None, rebuild)
    engine = default_engine()
    progress = for_terminal()
    try:
        with sigterm_as_interrupt():
            outcomes = engine.set_up(request, on_event=progress)
    finally:
        progress.close()
    width = max(len(outcome.tag) for outcome in outcomes)
    for outcome in outcomes:
        short = (outcome.image_id or "-").removeprefix("sha256:")[:12]
        click.echo(f"{outcome.tag:<{width}}  {short:<12}  {outcome.note}")


@cli.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check this machine can run scenarios: how the engine is reached (which SSH client and
    address, TLS checked or not), the engine, its version and limits, `poc setup`'s images."""
    from poc_runner.doctor import diagnose, healthy

    findings = diagnose()
    for finding in findings:
        click.echo(f"{finding.status:>7}  {finding.what}: {finding.detail}")
    ctx.exit(ExitCode.PASSED if healthy(findings) else ExitCode.SANDBOX_ERROR)


def main() -> NoReturn:
    """The `poc` command. It ends with os._exit once its output is flushed: Python's own
    shutdown would free every module and object one by one (pydantic's schemas are large),
    about 80 ms a user waits for nothing. Every file a command writes is closed by then. A
    reader that leaves early (`poc run | head`) changes nothing of that (pipes.py)."""
    readers_may_leave()
    try:
        cli(prog_name="poc")
        code: int | str | None = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):
        click.echo(code, err=True)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code or 0)
