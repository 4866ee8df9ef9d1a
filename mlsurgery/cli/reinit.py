import click

from ..ops.inits import REINIT_INITS
from .options import NameList, writing_options


@click.command("reinit")
@click.argument("model", type=click.Path(path_type=str))
@click.option("--layers", "layer_groups", type=NameList(), multiple=True, required=True,
              help="innerProduct / convolution layers to re-initialise, comma-separated (e.g. fc7,fc8).")
@click.option("--init", type=click.Choice(REINIT_INITS), default="kaiming-uniform", show_default=True,
              help="kaiming-uniform: W ~ U(±√(6/fan_in)), b ~ U(±1/√fan_in); kaiming-normal: W ~ N(0, 2/fan_in); "
                   "xavier-uniform: W ~ U(±√(6/(fan_in+fan_out))); biases 0 except for kaiming-uniform.")
@click.option("--seed", type=int, help="Random seed: the same seed gives a byte-identical model "
                                       "[default: a fresh seed, printed so the run can be repeated].")
@writing_options("reinit")
def reinit_command(model, layer_groups, init, seed, output, in_place, force, dry_run):
    """Replace the weights and biases of --layers of MODEL with fresh random values.

    A result Core ML would reject is not written (exit 1) unless --force.
    """
    from ..jobs import reinit_file
    from .options import default_output_path, report_job, seeded_generator

    output = output or default_output_path(model, "reinit")
    layers = [name for group in layer_groups for name in group]
    report_job(lambda: reinit_file(model, output, layers, init=init, rng=seeded_generator(seed, init != "zeros", init),
                                   force=force, dry_run=dry_run, in_place=in_place), dry_run=dry_run)
