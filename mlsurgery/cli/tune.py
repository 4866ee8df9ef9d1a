import click


@click.command("tune")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.argument("data", type=click.Path(path_type=str))
@click.option("--validation", required=True, type=click.Path(path_type=str),
              help="Data the trials are ranked on (keep it apart from DATA).")
@click.option("--trials", type=int, default=6, show_default=True,
              help="Learning rates tried, log-spaced over the allowed range (the default is always tried too).")
@click.option("--seed", type=int, default=None, help="Shuffle seed of every trial [default: the model's own].")
@click.option("--write-defaults", is_flag=True, help="Store the best values as the model's defaults in -o.")
@click.option("-o", "--output", type=click.Path(path_type=str), help="With --write-defaults: the model to write.")
@click.option("--report", type=click.Path(path_type=str),
              help="Write an HTML report of the best trial (curves, confusion matrices, every trial).")
@click.option("--force", is_flag=True, help="Write the model even if the validator rejects it.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table: progress bar and ranked trials; json: every trial (README).")
def tune_command(model, data, validation, trials, seed, write_defaults, output, report, force, output_format):
    """Find update parameters MODEL allows that make it learn: train with each learning rate (log-spaced in its
    allowed range), mini-batch size and epochs value it allows, and rank them on --validation.

    With --write-defaults -o OUT the best ones become the model's defaults (allowed values unchanged), so an app's
    MLUpdateTask uses them with no code. Deterministic for a seed. Needs PyTorch.
    """
    from ..engine.errors import require_torch
    from ..errors import UsageError

    if write_defaults != (output is not None):
        raise UsageError("--write-defaults and -o go together: tune ... --write-defaults -o OUT.mlmodel")
    require_torch()
    from ..report import console, print_json
    from ..tuning import tune_file

    if report:
        from ..training_report import check_report_path

        check_report_path(report, model, data, validation)
    if output_format == "json":
        outcome = tune_file(model, data, validation, trials=trials, seed=seed, output=output, force=force)
    else:
        out = console()
        with _progress(console(stderr=True)) as advance:
            outcome = tune_file(model, data, validation, trials=trials, seed=seed, output=output, force=force,
                                on_run=advance)
    if report:
        from ..training_report import write_tune_report

        write_tune_report(report, model, data, validation, outcome)
    if output_format == "json":
        print_json(tune_json(model, data, validation, outcome, report))
    else:
        print_tune(outcome, out, report)
    return 0 if outcome.tune.best is not None else 1


def tune_json(model, data, validation, outcome, report) -> dict:
    result = outcome.tune
    return {"model": model, "data": data, "validation": validation, "examples": result.examples,
            "validation_examples": result.validation_examples, "search": result.space.to_dict(),
            "parameters": result.parameters.to_dict(), "trials": [trial.to_dict() for trial in result.trials],
            "best": result.best.to_dict() if result.best else None,
            "output": str(outcome.written.written) if outcome.written and outcome.written.written else None,
            "report": report}


def _progress(out):
    import contextlib

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    @contextlib.contextmanager
    def bar():
        with Progress(TextColumn("training runs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=out, transient=True) as progress:
            task = progress.add_task("tune", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            yield advance

    return bar()


def print_tune(outcome, out, report) -> None:
    from rich.table import Table

    result = outcome.tune
    table = Table(title=f"{len(result.trials)} trials on {result.examples} examples, ranked on "
                        f"{result.validation_examples} validation examples", title_justify="left", show_edge=False)
    for column in ("#", "learningRate", "miniBatchSize", "epochs", "loss", "validation loss", "validation accuracy",
                   ""):
        table.add_column(column, justify="left" if column == "" else "right")
    for rank, trial in enumerate(result.trials, start=1):
        if trial.diverged:
            measured = ["—", "—", "—", "[red]diverged[/red]"]
        else:
            accuracy = trial.validation_accuracy
            measured = [f"{trial.loss:.4f}", f"{trial.validation_loss:.4f}",
                        "—" if accuracy is None else f"{100 * accuracy:.1f} %", ""]
        if trial.default:
            measured[-1] = (measured[-1] + " the model's defaults").strip()
        table.add_row(str(rank), f"{trial.learning_rate:g}", str(trial.mini_batch_size), str(trial.epochs),
                      *measured)
    out.print(table)
    best = result.best
    if best is None:
        out.print("[red]every trial diverged[/red]: no allowed learning rate trains this model on this data")
    else:
        out.print(f"best: learningRate {best.learning_rate:g}, miniBatchSize {best.mini_batch_size}, epochs "
                  f"{best.epochs}")
    if outcome.written is not None and outcome.written.written:
        out.print(f"wrote {outcome.written.written} with these defaults (valid: Core ML accepts this model)")
    if report:
        out.print(f"report: {report}")
