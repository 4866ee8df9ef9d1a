import click


@click.command("inspect")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for scripts (shape documented in README).")
def inspect_command(model: str, output_format: str):
    """Show a model's interface, its layers, what can be trained and, if updatable, its training setup.

    An ML Program (.mlpackage) shows its functions, op types, weight storage, deployment target and whether
    `mlsurgery convert` can make it trainable."""
    from ..io import opened_spec
    from ..report import console, print_json, print_summary
    from ..inspection import summarize

    with opened_spec(model) as spec:  # weights stay in the file: inspect shows their counts and storage
        unconvertible = None
        if spec.WhichOneof("Type") == "mlProgram":
            from ..mlprogram.convert import unconvertible_ops

            unconvertible = unconvertible_ops(spec)
        summary = summarize(spec, model, unconvertible=unconvertible)
    if output_format == "json":
        print_json(summary)
    else:
        print_summary(summary, console())
