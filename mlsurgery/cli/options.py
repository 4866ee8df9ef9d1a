"""Option value types shared by several commands."""

from __future__ import annotations

import click


class IntList(click.ParamType):
    """A comma-separated list of integers, e.g. ``1,2,8,16``."""

    name = "N,N,..."

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return tuple(int(part) for part in str(value).split(",") if part.strip())
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of integers (e.g. 1,2,8,16)", param, ctx)


class FloatRange(click.ParamType):
    """``MIN,MAX``, e.g. ``0,1``."""

    name = "MIN,MAX"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = str(value).split(",")
        try:
            low, high = (float(part) for part in parts)
        except ValueError:
            self.fail(f"{value!r} is not MIN,MAX (e.g. 0,1)", param, ctx)
        if low > high:
            self.fail(f"minimum {low} is greater than maximum {high}", param, ctx)
        return (low, high)


class NameList(click.ParamType):
    """Comma-separated names; repeated options add up (``--layers a,b --layers c``)."""

    name = "NAME,NAME,..."

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        return [part.strip() for part in str(value).split(",") if part.strip()]


def default_output_path(model: str, suffix: str) -> str:
    """``model.mlmodel`` → ``model_<suffix>.mlmodel`` beside it, so the input is never overwritten by default."""
    from pathlib import Path

    path = Path(model)
    # An .mlpackage's result is an .mlmodel too: mlsurgery writes NeuralNetwork specs, which need no package.
    extension = ".mlmodel" if path.suffix.lower() == ".mlpackage" or not path.suffix else path.suffix
    return str(path.with_name(f"{path.stem}_{suffix}{extension}"))


def writing_options(suffix: str, *, what: str = "the result"):
    """``-o/--output``, ``--in-place``, ``--force`` and ``--dry-run``, the same for every command that writes a model
    (``mlsurgery.jobs.run_job`` gives them their meaning); ``suffix`` names the default output."""
    options = [
        click.option("-o", "--output", type=click.Path(path_type=str),
                     help=f"Where to write {what} [default: MODEL_{suffix}.mlmodel beside MODEL]."),
        click.option("--in-place", is_flag=True, help="Allow -o to be the input model itself."),
        click.option("--force", is_flag=True, help="Write the model even if Core ML would reject it."),
        click.option("--dry-run", is_flag=True, help="Print what would change and the verdict; write nothing."),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def report_job(run, *, dry_run: bool) -> None:
    """Run a job (``run() -> SurgeryResult``) and print its changes, the verdict and what it wrote; a refused model
    prints its findings before the one-line error (exit 1)."""
    from ..errors import InvalidModelError
    from ..report import console, print_changes, print_findings

    out = console()
    try:
        result = run()
    except InvalidModelError as refused:
        if refused.report is not None:
            print_findings(refused.report, out, fixes=True)
        raise
    print_changes(result.changes, out, dry_run=dry_run)
    print_findings(result.report, out, fixes=True)
    if result.written:
        out.print(f"wrote {result.written}")


def seeded_generator(seed: int | None, draws: bool, init: str):
    """The numpy Generator for a command's random draws; without --seed, pick one and print it."""
    import secrets

    import numpy as np

    from ..errors import UsageError
    from ..report import console

    if not draws:
        if seed is not None:
            raise UsageError(f"--seed has no effect with --init {init}, which draws no random numbers; drop it")
        return None
    if seed is None:
        seed = secrets.randbelow(2**32)
        console().print(f"seed {seed} (pass --seed {seed} to repeat this run)")
    if seed < 0:
        raise UsageError(f"--seed {seed} is negative; give a whole number ≥ 0")
    return np.random.default_rng(seed)


def read_model(model: str, *, stored_weights: bool = False):
    """The spec of MODEL as ``mlsurgery.jobs.open_model`` reads it (an ML Program converted to a NeuralNetwork),
    saying on stderr, in one line, when it was converted. ``stored_weights``: large weight fields stay in the
    file (for commands that read the structure and the weights' sizes, not their values)."""
    from ..jobs import open_model

    opened = open_model(model, stored_weights=stored_weights)
    if opened.conversion:
        click.echo(opened.conversion, err=True)
    return opened.spec
