import click

from .options import NameList

# Kept in step with mlsurgery.ops.widen.INITS (tests check); importing the op here would load numpy on --help.
INITS = ("zeros", "kaiming", "preserve")


@click.command("widen")
@click.argument("model", type=click.Path(path_type=str))
@click.option("--layer", required=True, help="The classifier layer to widen (innerProduct or convolution).")
@click.option("--classes", "num_classes", type=int, required=True, help="Number of outputs after widening.")
@click.option("--labels", type=NameList(), help="Labels of the NEW classes, comma-separated (as many as are added).")
@click.option("--label-prefix", help="Name new string labels PREFIX0, PREFIX1, … [default: user].")
@click.option("--init", type=click.Choice(INITS), default="zeros", show_default=True,
              help="New rows: zeros (the article's way; old-class probabilities change), kaiming (random), or "
                   "preserve (zero weights, bias -1000: old-class probabilities stay exactly the same).")
@click.option("--seed", type=int, help="Random seed for --init kaiming [default: a fresh seed, printed].")
@click.option("-o", "--output", type=click.Path(path_type=str),
              help="Where to write the result [default: MODEL_widened.mlmodel beside MODEL].")
@click.option("--in-place", is_flag=True, help="Allow -o to be the input model itself.")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
def widen_command(model, layer, num_classes, labels, label_prefix, init, seed, output, in_place, dry_run):
    """Give classifier --layer of MODEL --classes outputs, with new class labels; old rows stay bit-identical.

    Layers reading the widened output are adapted (batchnorm, scale, bias; the next innerProduct or
    convolution gets zero weights for the new inputs) or the command refuses, naming the layer.
    """
    from ..api import load_network_spec
    from ..ops.widen import widen_classifier
    from ..report import console
    from .options import default_output_path
    from .reinit import print_and_save, refuse_overwriting_input, seeded_generator

    output = output or default_output_path(model, "widened")
    refuse_overwriting_input(model, output, in_place, dry_run)
    out = console()
    spec = load_network_spec(model)
    rng = seeded_generator(seed, init == "kaiming", init, out)
    changes = widen_classifier(spec, layer, num_classes, labels=labels, label_prefix=label_prefix, init=init,
                               rng=rng)
    print_and_save(spec, changes, model, output, in_place, dry_run, out)
