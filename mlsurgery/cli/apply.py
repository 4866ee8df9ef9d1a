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
    from ..report import console, print_findings, print_recipe_outcome, print_recipe_summary

    out = console()
    loaded = load_recipe(recipe, overrides)
    try:
        outcomes = apply_recipe(loaded, dry_run=dry_run, output_dir=output_dir)
    except InvalidModelError as refused:
        if refused.report is not None:  # a refusal at a save carries the findings; a make-updatable step's does not
            print_findings(refused.report, out)
        raise
    for outcome in outcomes:
        print_recipe_outcome(outcome, out)
    print_recipe_summary(loaded, outcomes, dry_run, out)
