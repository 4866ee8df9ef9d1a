import click

from ..errors import EXIT_OK
from .options import writing_options


@click.command("convert")
@click.argument("model", type=click.Path(path_type=str))
@click.option("--keep-fp16", is_flag=True,
              help="If the package computes in fp16, keep the layers' weights fp16 (a frozen part; Core ML trains "
                   "only fp32 layers, so train an fp32 head with `mlsurgery split`). Default: all weights fp32.")
@writing_options("converted", what="the NeuralNetwork model")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def convert_command(model, keep_fp16, output, in_place, force, dry_run, output_format):
    """Convert the ML Program MODEL (.mlpackage) into a NeuralNetwork .mlmodel Core ML can train.

    Classifiers stay classifiers (same labels, same output names); image inputs keep their size and
    preprocessing; fp16 and compressed (palettized, quantized, sparse) weights become fp32. An op with no
    NeuralNetwork layer, a stateful model or several functions is refused (exit 2), naming the op.
    """
    from ..jobs import convert_file
    from .options import report_job

    output = output or _default_output(model)

    def job():
        return convert_file(model, output, keep_fp16=keep_fp16, force=force, dry_run=dry_run, in_place=in_place)

    if output_format == "text":
        report_job(lambda: job()[1], dry_run=dry_run)
        return EXIT_OK
    from ..report import print_json

    conversion, result = job()
    print_json({"path": model, "written": str(result.written) if result.written else None,
                "valid": result.report.valid, "type": conversion.spec.WhichOneof("Type"),
                "specification_version": conversion.spec.specificationVersion, "notes": conversion.notes})
    return EXIT_OK


def _default_output(model: str) -> str:
    """``X.mlpackage`` → ``X.mlmodel`` beside it; ``X.mlmodel`` (an ML Program) → ``X_converted.mlmodel``."""
    from pathlib import Path

    path = Path(model.rstrip("/"))
    if path.suffix == ".mlpackage":
        return str(path.with_suffix(".mlmodel"))
    return str(path.with_name(f"{path.stem}_converted.mlmodel"))
