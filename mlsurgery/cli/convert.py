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
    from ..jobs import run_job
    from ..mlprogram.package import load_and_convert
    from ..ops.changes import Changes
    from .options import report_job

    output = output or _default_output(model)
    conversions = []

    def load(path):
        conversions.append(load_and_convert(path, keep_fp16=keep_fp16))
        return conversions[-1].spec

    def record_notes(spec) -> Changes:
        changes = Changes("convert")
        for note in conversions[-1].notes:
            changes.add("model", note)
        return changes

    def job():
        return run_job(model, record_notes, output, load=load, force=force, dry_run=dry_run, in_place=in_place)

    if output_format == "text":
        report_job(job, dry_run=dry_run)
        return EXIT_OK
    from ..report import print_json

    result = job()
    print_json({"path": model, "written": str(result.written) if result.written else None,
                "valid": result.report.valid, "type": conversions[-1].spec.WhichOneof("Type"),
                "specification_version": conversions[-1].spec.specificationVersion,
                "notes": conversions[-1].notes})
    return EXIT_OK


def _default_output(model: str) -> str:
    """``X.mlpackage`` → ``X.mlmodel`` beside it; ``X.mlmodel`` (an ML Program) → ``X_converted.mlmodel``."""
    from pathlib import Path

    path = Path(model.rstrip("/"))
    if path.suffix == ".mlpackage":
        return str(path.with_suffix(".mlmodel"))
    return str(path.with_name(f"{path.stem}_converted.mlmodel"))
