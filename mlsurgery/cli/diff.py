import click


@click.command("diff")
@click.argument("model_a", type=click.Path(dir_okay=True, path_type=str))
@click.argument("model_b", type=click.Path(dir_okay=True, path_type=str))
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for scripts (shape documented in README).")
@click.option("--only-updatable-changed", is_flag=True,
              help="Exit 1 if anything but the values of parameters Core ML trains differs (a model trained on a "
                   "device is what was shipped plus training), else 0.")
def diff_command(model_a: str, model_b: str, output_format: str, only_updatable_changed: bool):
    """What differs from MODEL_A to MODEL_B: interface, update parameters, layers, weight arrays.

    Exit status, like diff(1): 0 the same, 1 different, 2 a file cannot be loaded. With --only-updatable-changed:
    0 when nothing but updatable parameters' values differ, else 1.
    """
    from ..diff import diff_files

    report = diff_files(model_a, model_b)
    if output_format == "json":
        from ..report import print_json

        print_json(report.to_dict())
    else:
        from ..report import console, print_diff

        print_diff(report, console())
    if only_updatable_changed:
        return 0 if report.only_updatable_changed else 1
    return 0 if report.same else 1
