import click

from ..ops.inits import WIDEN_INITS
from .options import NameList, writing_options


@click.command("widen")
@click.argument("model", type=click.Path(path_type=str))
@click.option("--layer", required=True, help="The classifier layer to widen (innerProduct or convolution).")
@click.option("--classes", "num_classes", type=int, required=True, help="Number of outputs after widening.")
@click.option("--labels", type=NameList(), help="Labels of the NEW classes, comma-separated (as many as are added).")
@click.option("--label-prefix", help="Name new string labels PREFIX0, PREFIX1, … [default: user].")
@click.option("--init", type=click.Choice(WIDEN_INITS), default="zeros", show_default=True,
              help="New rows: zeros (the article's way; old-class probabilities change), kaiming (random), or "
                   "preserve (zero weights, bias -1000: old-class probabilities stay exactly the same).")
@click.option("--seed", type=int, help="Random seed for --init kaiming [default: a fresh seed, printed].")
@writing_options("widened")
def widen_command(model, layer, num_classes, labels, label_prefix, init, seed, output, in_place, force, dry_run):
    """Give classifier --layer of MODEL --classes outputs, with new class labels; old rows stay bit-identical.

    Layers reading the widened output are adapted (batchnorm, scale, bias; the next innerProduct or
    convolution gets zero weights for the new inputs) or the command refuses, naming the layer. A result Core ML
    would reject is not written (exit 1) unless --force.
    """
    from ..jobs import widen_file
    from .options import default_output_path, report_job, seeded_generator

    output = output or default_output_path(model, "widened")
    report_job(lambda: widen_file(model, output, layer, num_classes, labels=labels, label_prefix=label_prefix,
                                  init=init, rng=seeded_generator(seed, init == "kaiming", init), force=force,
                                  dry_run=dry_run, in_place=in_place), dry_run=dry_run)
