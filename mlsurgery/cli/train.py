import click


@click.command("train")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.argument("data", type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, type=click.Path(path_type=str), help="Where to write the trained model.")
@click.option("--validation", type=click.Path(path_type=str), help="Validation data: loss and accuracy per epoch.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override an update parameter (Core ML's MLParameterKey names: learningRate, miniBatchSize, "
                   "epochs, shuffle, seed, momentum, beta1, beta2, eps); checked against the model's allowed values.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table: progress bar and per-epoch table; json: the history (README).")
@click.option("--features", multiple=True, metavar="NAME=FILE",
              help="k-NN pipelines behind a feature print: the k-NN input of every example, as an .npy of one row "
                   "per example in DATA's order (class folders by name, files by name).")
@click.option("--force", is_flag=True, help="Write the trained model even if the validator rejects it.")
def train_command(model, data, output, validation, overrides, output_format, features, force):
    """Train MODEL's updatable layers on DATA as MLUpdateTask would, and write the trained model to -o.

    DATA: a folder of class folders of images (Create ML / Turi Create layout), an .npz with one array per
    training input, or a CSV (columns NAME or NAME[0]…NAME[k-1]). Float32 on the CPU: the device may differ.
    """
    from ..engine.errors import require_torch

    require_torch()
    from ..engine.predict import parse_assignments
    from ..engine.training import train_file
    from ..report import console, print_json, training_progress

    settings = parse_assignments(overrides, "--set")
    if _train_knn(model, data, output, parse_assignments(features, "--features"), output_format, force):
        return
    if output_format == "json":
        result, saved = train_file(model, data, output, overrides=settings, validation=validation, force=force)
        print_json({"model": model, "output": str(saved.written), "parameters": result.parameters.to_dict(),
                    "examples": result.examples, "batches_per_epoch": result.batches_per_epoch,
                    "trained": result.trained, "history": [record.to_dict() for record in result.history]})
        return
    out = console()
    with training_progress(out) as progress:
        result, saved = train_file(model, data, output, overrides=settings, validation=validation, force=force,
                                   on_batch=progress.batch, on_epoch=progress.epoch)
    out.print(f"trained {', '.join(result.trained)} on {result.examples} examples "
              f"({result.batches_per_epoch} mini-batches of {result.parameters.mini_batch_size} per epoch, "
              f"{result.parameters.optimizer}, learning rate {result.parameters.learning_rate:g}); "
              f"wrote {saved.written}")


def _train_knn(model, data, output, features: dict, output_format: str, force: bool) -> bool:
    """A k-NN model (or a pipeline ending in one) trains by storing the examples; False for any other model."""
    from ..jobs import train_knn_file
    from ..engine.knn import is_knn_model
    from ..errors import UsageError
    from ..io import load_spec
    from ..report import console, print_json

    if not is_knn_model(load_spec(model)):
        if features:
            raise UsageError("--features gives a k-NN's input; this model does not end in a k-NN classifier")
        return False
    result, saved = train_knn_file(model, data, output, features=features, force=force)
    if output_format == "json":
        print_json({"model": model, "output": str(saved.written), "examples": result.added,
                    "stored": result.examples})
    else:
        console().print(f"k-NN: {result.added} examples stored ({result.examples} in all); wrote {saved.written}")
    return True
