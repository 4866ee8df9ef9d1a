import click


@click.command("apply")
@click.argument("recipe", type=click.Path(path_type=str))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a top-level key (seed=3, input=other.mlmodel) or a step argument "
                   "(steps.N.OPERATION.ARGUMENT=VALUE, N from 1, e.g. steps.1.widen.num_classes=12). VALUE is read "
                   "as YAML: 12, 0.5, true, [1, 2, 8]. Repeatable.")
@click.option("--dry-run", is_flag=True, help="Run every step in memory and print what it changes and each save's "
                                              "verdict; write nothing.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=str),
              help="Write every saved model into DIR under its own file name, instead of where the recipe says.")
def apply_command(recipe, overrides, dry_run, output_dir):
    """Run the surgery RECIPE (YAML): every step in order, saving where it says.

    The recipe is checked completely before any model is read; each saved model is validated as Core ML would
    and refused (exit 1) if Core ML would reject it, unless its save step says force: true. Nothing is written
    unless every step succeeds. The same recipe and seed always write byte-identical files. See docs/recipes.md.
    """
    from ..errors import InvalidModelError
    from ..recipe import apply_recipe, load_recipe
    from ..report import console, print_findings

    out = console()
    loaded = load_recipe(recipe, overrides)
    try:
        outcomes = apply_recipe(loaded, dry_run=dry_run, output_dir=output_dir)
    except InvalidModelError as refused:
        if refused.report is not None:  # a refusal at a save carries the findings; a make-updatable step's does not
            print_findings(refused.report, out)
        raise
    for outcome in outcomes:
        _print_outcome(outcome, out)
    _print_summary(loaded, outcomes, dry_run, out)


def _print_outcome(outcome, out) -> None:
    from rich.table import Table

    from ..report import print_findings

    step = outcome.step
    heading = f"step {step.number} · {step.operation}"
    if outcome.saved is not None:
        print_findings(outcome.saved.report, out, path=f"{heading} {outcome.saved.path}")
        return
    if not len(outcome.changes):
        out.print(f"{heading}: no change")
        return
    table = Table(title=heading, title_justify="left", show_edge=False)
    table.add_column("target")
    table.add_column("change")
    for change in outcome.changes:
        table.add_row(change.target, change.detail)
    out.print(table)


def _print_summary(recipe, outcomes, dry_run: bool, out) -> None:
    from rich.table import Table

    saves = [outcome.saved for outcome in outcomes if outcome.saved is not None]
    title = (f"{recipe.path}: dry run, {len(saves)} model(s) checked, nothing written" if dry_run else
             f"{recipe.path}: {len(outcomes)} step(s), {len(saves)} model(s) written")
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("step", justify="right")
    table.add_column("operation")
    table.add_column("changes", justify="right")
    table.add_column("saved file")
    table.add_column("verdict")
    for outcome in outcomes:
        saved = outcome.saved
        if saved is None:
            table.add_row(str(outcome.step.number), outcome.step.operation, str(len(outcome.changes)), "", "")
            continue
        verdict = "valid" if saved.report.valid else "[red]invalid (force)[/red]"
        shown = str(saved.path) if saved.written else f"{saved.path} (not written)"
        table.add_row(str(outcome.step.number), outcome.step.operation, "—", shown, verdict)
    out.print(table)
