import click

from .options import writing_options


@click.command("train")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.argument("data", type=click.Path(path_type=str))
@click.option("--validation", type=click.Path(path_type=str), help="Validation data: loss and accuracy per epoch.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override an update parameter (Core ML's MLParameterKey names: learningRate, miniBatchSize, "
                   "epochs, shuffle, seed, momentum, beta1, beta2, eps); checked against the model's allowed values.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table: progress bar and per-epoch table; json: the history (README).")
@click.option("--features", multiple=True, metavar="NAME=FILE",
              help="k-NN pipelines behind a feature print: the k-NN input of every example, as an .npy of one row "
                   "per example in DATA's order (class folders by name, files by name).")
@click.option("--report", type=click.Path(path_type=str),
              help="Also write an HTML report: loss curves, confusion matrices before/after, parameters, data.")
@writing_options("trained", what="the trained model")
def train_command(model, data, validation, overrides, output_format, features, report, output, in_place, force,
                  dry_run):
    """Train MODEL's updatable layers on DATA as MLUpdateTask would, and write the trained model to -o.

    DATA: a folder of class folders of images (Create ML / Turi Create layout), an .npz with one array per
    training input, or a CSV (columns NAME or NAME[0]…NAME[k-1]). Float32 on the CPU: the device may differ.
    Data holding NaN or infinity is refused (exit 2); a loss or weight that becomes NaN or infinite stops the run
    and writes nothing (exit 1) unless --force.
    """
    from ..engine.errors import require_torch

    require_torch()
    from ..jobs import train_file
    from ..engine.predict import parse_assignments
    from ..report import console, print_json, training_progress
    from .options import default_output_path, read_model

    output = output or default_output_path(model, "trained")
    settings = parse_assignments(overrides, "--set")
    spec = read_model(model)
    if report:  # refused before training if it cannot be written; written after it
        from ..training_report import check_report_path, write_train_report

        check_report_path(report, model, data)
    job = {"force": force, "dry_run": dry_run, "in_place": in_place, "spec": spec}
    if _train_knn(model, data, output, parse_assignments(features, "--features"), output_format, job):
        return
    if output_format == "json":
        result, saved = train_file(model, data, output, overrides=settings, validation=validation, **job)
        if report:
            write_train_report(report, model, data, validation, result)
        print_json({"model": model, "output": _written(saved), "parameters": result.parameters.to_dict(),
                    "examples": result.examples, "batches_per_epoch": result.batches_per_epoch,
                    "trained": result.trained, "history": [record.to_dict() for record in result.history]})
        return
    out = console()
    with training_progress(out) as progress:
        result, saved = train_file(model, data, output, overrides=settings, validation=validation,
                                   on_batch=progress.batch, on_epoch=progress.epoch, **job)
    if report:
        write_train_report(report, model, data, validation, result)
        out.print(f"report: {report}")
    out.print(f"trained {', '.join(result.trained)} on {result.examples} examples "
              f"({result.batches_per_epoch} mini-batches of {result.parameters.mini_batch_size} per epoch, "
              f"{result.parameters.optimizer}, learning rate {result.parameters.learning_rate:g}); "
              f"{_wrote(saved)}")


def _written(saved) -> str | None:
    return str(saved.written) if saved.written else None


def _wrote(saved) -> str:
    return f"wrote {saved.written}" if saved.written else "dry run: nothing written"


def _train_knn(model, data, output, features: dict, output_format: str, job: dict) -> bool:
    """A k-NN model (or a pipeline ending in one) trains by storing the examples; False for any other model."""
    from ..jobs import train_knn_file
    from ..engine.knn import is_knn_model
    from ..errors import UsageError
    from ..report import console, print_json

    if not is_knn_model(job["spec"]):
        if features:
            raise UsageError("--features gives a k-NN's input; this model does not end in a k-NN classifier")
        return False
    result, saved = train_knn_file(model, data, output, features=features, **job)
    if output_format == "json":
        print_json({"model": model, "output": _written(saved), "examples": result.added,
                    "stored": result.examples})
    else:
        console().print(f"k-NN: {result.added} examples stored ({result.examples} in all); {_wrote(saved)}")
    return True
