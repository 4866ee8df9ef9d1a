import click


@click.command("inspect")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for scripts (shape documented in README).")
def inspect_command(model: str, output_format: str):
    """Show a model's interface, its layers, what can be trained and, if updatable, its training setup."""
    from ..io import load_spec
    from ..report import console, print_json, print_summary
    from ..inspection import summarize

    summary = summarize(load_spec(model), model)
    if output_format == "json":
        print_json(summary)
    else:
        print_summary(summary, console())
