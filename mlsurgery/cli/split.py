import click

from ..coreml import LossKind
from .options import NameList, writing_options


@click.command("split")
@click.argument("model", type=click.Path(path_type=str))
@click.option("--at", "at", metavar="BLOB", required=True, help="The blob between the frozen backbone and the head.")
@click.option("--layers", "layer_groups", type=NameList(), multiple=True,
              help="Head layers to train, comma-separated, or 'auto' [default: auto].")
@click.option("--depth", type=int, default=1, show_default=True,
              help="With --layers auto: how many trainable layers nearest the loss.")
@click.option("--loss", type=click.Choice([kind.value for kind in LossKind]),
              help="Loss [default: cross-entropy on a softmax output, else mse on the single output].")
@click.option("--loss-input", metavar="BLOB", help="The blob the loss reads.")
@writing_options("split", what="the pipeline")
def split_command(model, at, layer_groups, depth, loss, loss_input, output, in_place, force, dry_run):
    """Split MODEL after --at BLOB: a frozen first stage (fp16 / quantized / LSTM layers stay as they are) and an
    fp32 updatable head, as a pipeline.

    Change the training settings afterwards with `mlsurgery make-updatable` on the result.
    """
    from ..jobs import split_file
    from .options import default_output_path, report_job

    layers = [name for group in layer_groups for name in group] or None
    output = output or default_output_path(model, "split")
    report_job(lambda: split_file(model, output, at, layers=layers, depth=depth, loss=loss, loss_input=loss_input,
                                  force=force, dry_run=dry_run, in_place=in_place), dry_run=dry_run)
