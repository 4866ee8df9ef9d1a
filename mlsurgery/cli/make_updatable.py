import click

from ..coreml import (DEFAULT_BATCH, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPOCHS, DEFAULT_EPS, DEFAULT_LEARNING_RATE,
                      DEFAULT_MOMENTUM, DEFAULT_OPTIMIZER, LossKind, OptimizerKind)
from .options import FloatRange, IntList, NameList, writing_options


@click.command("make-updatable")
@click.argument("model", type=click.Path(path_type=str))
@click.option("--layers", "layer_groups", type=NameList(), multiple=True,
              help="Layers to train, comma-separated (e.g. fullyconnected0,conv10), 'auto', or 'marked' (those "
                   "already marked updatable) [default: auto].")
@click.option("--depth", type=int, default=1, show_default=True,
              help="With --layers auto: how many trainable layers nearest the loss.")
@click.option("--loss", type=click.Choice([kind.value for kind in LossKind]),
              help="Loss [default: cross-entropy on a classifier's softmax, else mse on the single output].")
@click.option("--loss-input", metavar="BLOB", help="The blob the loss reads (a layer output).")
@click.option("--target-shape", type=IntList(), help="Shape of the MSE target when it cannot be read off an output.")
@click.option("--optimizer", "optimizer_kind", type=click.Choice([kind.value for kind in OptimizerKind]),
              default=DEFAULT_OPTIMIZER.value, show_default=True)
@click.option("--lr", type=float, default=DEFAULT_LEARNING_RATE, show_default=True, help="Default learning rate.")
@click.option("--lr-range", type=FloatRange(), default="0,1", show_default=True, help="Allowed learning rates.")
@click.option("--batch", type=int, default=DEFAULT_BATCH, show_default=True, help="Default mini-batch size.")
@click.option("--batch-values", type=IntList(), help="Allowed mini-batch sizes [default: just --batch].")
@click.option("--momentum", type=float, default=DEFAULT_MOMENTUM, show_default=True,
              help="SGD momentum (allowed 0–1).")
@click.option("--beta1", type=float, default=DEFAULT_BETA1, show_default=True, help="Adam beta1 (allowed 0–1).")
@click.option("--beta2", type=float, default=DEFAULT_BETA2, show_default=True, help="Adam beta2 (allowed 0–1).")
@click.option("--eps", type=float, default=DEFAULT_EPS, show_default=True, help="Adam epsilon (allowed 0–1).")
@click.option("--epochs", type=int, default=DEFAULT_EPOCHS, show_default=True, help="Default number of epochs.")
@click.option("--epochs-values", type=IntList(), help="Allowed epoch counts [default: just --epochs].")
@click.option("--shuffle/--no-shuffle", default=True, show_default=True, help="Shuffle examples each epoch.")
@click.option("--seed", type=int, help="Shuffle seed, for repeatable training order.")
@click.option("--to-fp32", is_flag=True, help="Widen fp16 weights to fp32 (Core ML cannot train fp16 networks).")
@click.option("--dequantize", is_flag=True, help="Expand the chosen layers' quantized weights to fp32.")
@click.option("--fix", "apply_fixes", is_flag=True,
              help="First rewrite converter output between those layers and the loss (softmaxND, batchedMatMul, "
                   "flattening reshapes, identities; see `mlsurgery fix`), each proven by the engine.")
@writing_options("updatable", what="the updatable model")
def make_updatable_command(model, layer_groups, depth, output, in_place, loss, loss_input, target_shape, optimizer_kind,
                           lr, lr_range, batch, batch_values, momentum, beta1, beta2, eps, epochs, epochs_values,
                           shuffle, seed, to_fp32, dequantize, apply_fixes, force, dry_run):
    """Make MODEL trainable on device: mark --layers updatable, attach a loss, set the optimizer and epochs.

    The result is checked with mlsurgery's port of Core ML's validator; a model Core ML would reject is not
    written (exit 1) unless --force.
    """
    from ..jobs import make_updatable_file
    from ..ops.update_parameters import EpochSettings, OptimizerSettings
    from .options import default_output_path, report_job

    layers = [name for group in layer_groups for name in group] or ["auto"]
    settings = OptimizerSettings(kind=optimizer_kind, learning_rate=lr, learning_rate_range=lr_range, batch=batch,
                                 batch_values=batch_values, momentum=momentum, beta1=beta1, beta2=beta2, eps=eps)
    output = output or default_output_path(model, "updatable")
    report_job(lambda: make_updatable_file(
        model, output, layers, depth=depth, loss=loss, loss_input=loss_input,
        target_shape=list(target_shape) if target_shape else None, optimizer=settings,
        epochs=EpochSettings(epochs, epochs_values), shuffle=shuffle, seed=seed, to_fp32=to_fp32,
        dequantize=dequantize, fix=apply_fixes, force=force, dry_run=dry_run, in_place=in_place), dry_run=dry_run)
