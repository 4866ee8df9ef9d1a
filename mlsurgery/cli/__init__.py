"""The ``mlsurgery`` command line: a thin shell over the Python API.

Each subcommand lives in its own module of this package and is registered in ``COMMANDS`` below. Command
modules import only click at import time and load the API inside the command, so ``mlsurgery --help`` and
light commands start fast. A user error (``MLSurgeryError``) prints one line and exits with its code; any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from ..errors import EXIT_ABORTED, EXIT_OK, MLSurgeryError

# (command name, module in this package, function in that module)
COMMANDS = [
    ("inspect", "inspect", "inspect_command"),
    ("make-updatable", "make_updatable", "make_updatable_command"),
    ("validate", "validate", "validate_command"),
    ("rules", "rules", "rules_command"),
    ("widen", "widen", "widen_command"),
    ("reinit", "reinit", "reinit_command"),
    ("apply", "apply", "apply_command"),
    ("recipe", "recipe", "recipe_command"),
    ("make-knn", "make_knn", "make_knn_command"),
    ("split", "split", "split_command"),
    ("predict", "predict", "predict_command"),
    ("train", "train", "train_command"),
    ("contract", "contract", "contract_command"),
    ("fix", "fix", "fix_command"),
    ("graph", "graph", "graph_command"),
    ("evaluate", "evaluate", "evaluate_command"),
    ("tune", "tune", "tune_command"),
    ("convert", "convert", "convert_command"),
    ("diff", "diff", "diff_command"),
]


class _Group(click.Group):
    """Loads a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx):
        return [name for name, _, _ in COMMANDS]

    def get_command(self, ctx, name):
        for command_name, module, function in COMMANDS:
            if command_name == name:
                return getattr(importlib.import_module(f"{__name__}.{module}"), function)
        return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mlsurgery")
def cli():
    """Make Core ML NeuralNetwork models trainable on device, and validate them exactly as Core ML does."""


def main(argv: list[str] | None = None) -> int:
    try:
        result = cli.main(args=argv, prog_name="mlsurgery", standalone_mode=False)
    except MLSurgeryError as error:
        click.echo(f"mlsurgery: error: {error}", err=True)
        return error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.UsageError as error:
        command = f" {error.ctx.info_name}" if error.ctx and error.ctx.parent else ""
        click.echo(f"mlsurgery: error: {error.format_message()} (see 'mlsurgery{command} --help')", err=True)
        return error.exit_code
    except click.ClickException as error:
        click.echo(f"mlsurgery: error: {error.format_message()}", err=True)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("mlsurgery: aborted", err=True)
        return EXIT_ABORTED
    # A command returns its exit code (e.g. validate: 1 when a model is invalid) or None for success.
    return result if isinstance(result, int) else EXIT_OK


def run() -> None:
    sys.exit(main())
