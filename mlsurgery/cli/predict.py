import click


@click.command("predict")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.option("--input", "inputs", multiple=True, metavar="NAME=FILE",
              help="An input value: .npy array, image file (.png/.jpg) or a JSON literal. Repeatable.")
@click.option("--features", multiple=True, metavar="NAME=FILE",
              help="The output of a pipeline stage the engine cannot compute (e.g. VisionFeaturePrint), as .npy.")
@click.option("--random-inputs", "random", is_flag=True,
              help="Fill every input not given with seeded random values of its declared type and shape.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --random-inputs.")
@click.option("--top", type=int, default=5, show_default=True, help="Classes shown for a classifier.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people; json: an object keyed by output name (README).")
@click.option("--data", type=click.Path(path_type=str),
              help="Every example of DATA (as train reads it) instead of one; needs -o predictions.csv|.jsonl.")
@click.option("-o", "--output", type=click.Path(path_type=str), help="With --data: one row per example.")
def predict_command(model, inputs, features, random, seed, top, output_format, data, output):
    """Run MODEL on one example, or on every example of --data, on this machine (float32, CPU; needs PyTorch:
    pip install 'mlsurgery[train]')."""
    from ..engine.errors import require_torch

    require_torch()
    if data is not None or output is not None:
        from .evaluate import predict_data

        return predict_data(model, data, output, given=bool(inputs or features or random))
    from ..engine.predict import jsonable, parse_assignments, predict_file
    from ..report import console, print_json, print_predictions
    from .options import read_model

    outputs = predict_file(model, parse_assignments(inputs, "--input"),
                           features=parse_assignments(features, "--features"), random=random, seed=seed,
                           spec=read_model(model, stored_weights=True))  # the engine copies the weights it needs
    if output_format == "json":
        print_json(jsonable(outputs))
    else:
        print_predictions(outputs, console(), top=top)
