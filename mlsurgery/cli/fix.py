import click

from ..errors import EXIT_OK
from .options import NameList, writing_options


@click.command("fix")
@click.argument("model", type=click.Path(path_type=str))
@click.option("--only", "only_groups", type=NameList(), multiple=True, metavar="CODE,…",
              help="Apply only these rewrites (rule codes MLS500–MLS504; see `mlsurgery rules`).")
@writing_options("fixed", what="the fixed model")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def fix_command(model, output, only_groups, in_place, force, dry_run, output_format):
    """Rewrite converter output so Core ML can train it: softmaxND → softmax, batchedMatMul → innerProduct,
    flattening reshapes → flatten, identity layers removed, a loss moved before a trailing reshape.

    Each rewrite is kept only if the engine shows the model's outputs unchanged (within 1e-5 on random inputs of
    the declared types); a refused one is listed with the reason. Needs PyTorch (mlsurgery[train]).
    """
    from ..jobs import fix_file
    from ..report import console, print_changes, print_findings, print_json
    from .options import default_output_path

    only = [code for group in only_groups for code in group] or None
    output = output or default_output_path(model, "fixed")
    result = fix_file(model, output, only=only, force=force, dry_run=dry_run, in_place=in_place)
    surgery = result.surgery
    if output_format == "json":
        print_json({
            "path": model,
            "written": str(surgery.written) if surgery.written else None,
            "valid": surgery.report.valid,
            "applied": [{"code": m.code, "layer": m.layer, "detail": m.detail} for m in result.fix.applied],
            "refused": [{"code": m.code, "layer": m.layer, "reason": why} for m, why in result.fix.refused],
            "changes": result.fix.changes.to_dict()["changes"],
        })
        return EXIT_OK
    out = console()
    for match, why in result.fix.refused:
        out.print(f"refused {match.code} on {match.layer!r}: {why}", markup=False, highlight=False)
    if not result.fix.applied:
        out.print(f"{model}: no rewrite applies", markup=False)
    print_changes(surgery.changes, out, dry_run=dry_run)
    print_findings(surgery.report, out)
    if surgery.written:
        out.print(f"wrote {surgery.written}", markup=False)
    return EXIT_OK
