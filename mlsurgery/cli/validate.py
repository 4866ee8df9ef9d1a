import click

from ..errors import EXIT_INVALID, EXIT_OK, EXIT_USAGE

FORMATS = ["text", "json", "sarif", "github"]


@click.command("validate")
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people; json (one array, an object per file), sarif (2.1.0, for code scanning) or "
                   "github (workflow annotations) for CI.")
@click.option("--strict", is_flag=True, help="Also fail (exit 1) on warnings: device-time failures Core ML's "
                                             "validator does not catch.")
def validate_command(models: tuple[str, ...], output_format: str, strict: bool):
    """Check MODELS exactly as Core ML's validator would, and report every finding. A folder stands for every
    .mlmodel file and .mlpackage folder under it.

    Exit status: 0 when every model is valid, 1 when any model is invalid (with --strict: or has a warning),
    2 when any file cannot be loaded as a Core ML model (the others are still checked and reported).
    """
    import json

    from ..ci_report import github_annotations, sarif_log
    from ..validate import validate_paths

    results = validate_paths(list(models))
    if output_format == "json":
        click.echo(json.dumps([result.to_dict() for result in results], indent=2, ensure_ascii=False))
    elif output_format == "sarif":
        click.echo(json.dumps(sarif_log(results, tool_version=_version()), indent=2, ensure_ascii=False))
    elif output_format == "github":
        for line in github_annotations(results):
            click.echo(line)
    else:
        from ..report import console, print_validation

        print_validation(results, strict, console())
    return exit_code(results, strict)


def exit_code(results, strict: bool) -> int:
    """2 if any file could not be loaded (the run is incomplete), else 1 if any model fails, else 0."""
    if any(result.error is not None for result in results):
        return EXIT_USAGE
    if any(not result.valid or (strict and result.report.warnings) for result in results):
        return EXIT_INVALID
    return EXIT_OK


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mlsurgery")
    except PackageNotFoundError:
        return ""
