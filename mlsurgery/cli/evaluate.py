import click

# A confusion matrix wider than this is left to --format json (it would not fit a terminal).
MAX_TABLE_CLASSES = 20


@click.command("evaluate")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.argument("data", type=click.Path(path_type=str))
@click.option("--top-k", "top_k", type=int, default=5, show_default=True,
              help="Also count a prediction right when the true class is among the k most probable.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people; json: the metrics (README, 'Measuring a model').")
def evaluate_command(model, data, top_k, output_format):
    """Measure MODEL on labelled DATA: accuracy, top-k, per-class precision/recall/F1 and the confusion matrix for
    classifiers; MSE, MAE and the largest error for regressors.

    DATA as train reads it: a folder of class folders of images, an .npz or a CSV holding the model's inputs and
    the true values (a classifier's label feature, or arrays named after the outputs).
    """
    from ..engine.errors import require_torch
    from ..errors import UsageError

    if top_k < 1:
        raise UsageError(f"--top-k {top_k}: must be at least 1")
    require_torch()
    from ..evaluation import evaluate_file
    from ..report import console, print_json

    if output_format == "json":
        print_json(evaluate_file(model, data, top_k=(top_k,)).to_dict())
        return
    with _progress(console(stderr=True)) as advance:
        evaluation = evaluate_file(model, data, top_k=(top_k,), on_progress=advance)
    print_evaluation(evaluation, console())


def _progress(out):
    """A progress bar over the examples (shown only while the run lasts)."""
    import contextlib

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    @contextlib.contextmanager
    def bar():
        with Progress(TextColumn("predicting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=out, transient=True) as progress:
            task = progress.add_task("evaluate", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            yield advance

    return bar()


def print_evaluation(evaluation, out) -> None:
    from rich.table import Table

    out.print(f"[bold]{evaluation.model}[/bold] on {evaluation.data}: {evaluation.examples} examples")
    for measured in evaluation.outputs:
        metrics = measured.metrics
        if measured.task == "regression":
            out.print(f"[bold]{measured.output}[/bold] (regression, true values {measured.truth!r}, "
                      f"{metrics.values_per_example} per example)  MSE {metrics.mse:.6g}  MAE {metrics.mae:.6g}  "
                      f"largest error {metrics.largest_error:.6g} (example {metrics.largest_error_example})")
            continue
        top = "".join(f"  top-{k} {100 * value:.2f} %" for k, value in metrics.top_k.items())
        out.print(f"[bold]{measured.output}[/bold] (classification, true labels {measured.truth!r})  accuracy "
                  f"{100 * metrics.accuracy:.2f} %{top}  macro F1 {metrics.macro_f1:.4f}")
        table = Table(show_edge=False)
        for column in ("class", "precision", "recall", "F1", "support"):
            table.add_column(column, justify="left" if column == "class" else "right")
        for row in metrics.per_class:
            table.add_row(str(row.label), f"{row.precision:.4f}", f"{row.recall:.4f}", f"{row.f1:.4f}",
                          str(row.support))
        out.print(table)
        if len(metrics.classes) > MAX_TABLE_CLASSES:
            out.print(f"confusion matrix: {len(metrics.classes)} classes, see --format json")
            continue
        matrix = Table(title="confusion matrix (rows: true, columns: predicted)", title_justify="left",
                       show_edge=False)
        matrix.add_column("")
        for label in metrics.classes:
            matrix.add_column(str(label), justify="right")
        for label, counts in zip(metrics.classes, metrics.confusion.tolist()):
            matrix.add_row(str(label), *(str(c) if c else "·" for c in counts))
        out.print(matrix)


def predict_data(model, data, output, *, given: bool) -> None:
    """``predict --data DATA -o OUT``: a progress bar over the examples, then one line saying what was written."""
    from ..errors import UsageError
    from ..evaluation import predict_data_file
    from ..report import console

    if data is None or output is None:
        raise UsageError("--data and -o go together: predict --data DATA -o predictions.csv|.jsonl")
    if given:
        raise UsageError("--data runs every example of DATA; --input, --features and --random-inputs run one")
    out = console(stderr=True)
    with _progress(out) as advance:
        rows = predict_data_file(model, data, output, on_progress=advance)
    out.print(f"wrote {rows} predictions to {output}")
