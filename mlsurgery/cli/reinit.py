import click

from .options import NameList

# Kept in step with mlsurgery.ops.reinit.INITS (tests check); importing the op here would load numpy on --help.
INITS = ("kaiming-uniform", "kaiming-normal", "xavier-uniform", "zeros")


@click.command("reinit")
@click.argument("model", type=click.Path(path_type=str))
@click.option("--layers", "layer_groups", type=NameList(), multiple=True, required=True,
              help="innerProduct / convolution layers to re-initialise, comma-separated (e.g. fc7,fc8).")
@click.option("--init", type=click.Choice(INITS), default="kaiming-uniform", show_default=True,
              help="kaiming-uniform: W ~ U(±√(6/fan_in)), b ~ U(±1/√fan_in); kaiming-normal: W ~ N(0, 2/fan_in); "
                   "xavier-uniform: W ~ U(±√(6/(fan_in+fan_out))); biases 0 except for kaiming-uniform.")
@click.option("--seed", type=int, help="Random seed: the same seed gives a byte-identical model "
                                       "[default: a fresh seed, printed so the run can be repeated].")
@click.option("-o", "--output", type=click.Path(path_type=str),
              help="Where to write the result [default: MODEL_reinit.mlmodel beside MODEL].")
@click.option("--in-place", is_flag=True, help="Allow -o to be the input model itself.")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
def reinit_command(model, layer_groups, init, seed, output, in_place, dry_run):
    """Replace the weights and biases of --layers of MODEL with fresh random values."""
    from ..api import load_network_spec
    from ..ops.reinit import reinit_layers
    from ..report import console
    from .options import default_output_path

    output = output or default_output_path(model, "reinit")
    refuse_overwriting_input(model, output, in_place, dry_run)
    out = console()
    spec = load_network_spec(model)
    rng = seeded_generator(seed, init != "zeros", init, out)
    changes = reinit_layers(spec, [name for group in layer_groups for name in group], init=init, rng=rng)
    print_and_save(spec, changes, model, output, in_place, dry_run, out)


def refuse_overwriting_input(model: str, output: str, in_place: bool, dry_run: bool) -> None:
    """Fail before any work when -o names the input without --in-place (save_spec would refuse only at the end)."""
    import os

    from ..errors import UsageError

    if in_place or dry_run:
        return
    try:
        same = os.path.samefile(model, output)
    except OSError:
        return
    if same:
        raise UsageError(f"{output}: output is the input model; choose another -o path or pass --in-place")


def seeded_generator(seed: int | None, draws: bool, init: str, out):
    """The numpy Generator for a command's random draws; without --seed, pick one and print it."""
    import secrets

    import numpy as np

    from ..errors import UsageError

    if not draws:
        if seed is not None:
            raise UsageError(f"--seed has no effect with --init {init}, which draws no random numbers; drop it")
        return None
    if seed is None:
        seed = secrets.randbelow(2**32)
        out.print(f"seed {seed} (pass --seed {seed} to repeat this run)")
    if seed < 0:
        raise UsageError(f"--seed {seed} is negative; give a whole number ≥ 0")
    return np.random.default_rng(seed)


def print_and_save(spec, changes, model, output, in_place: bool, dry_run: bool, out) -> None:
    """Print what an operation changed and, unless it is a dry run, write the model."""
    from ..io import save_spec
    from ..report import print_changes

    print_changes(changes, out, dry_run=dry_run)
    if not dry_run:
        out.print(f"wrote {save_spec(spec, output, source=model, in_place=in_place)}")
