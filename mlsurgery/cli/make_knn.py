import click

from .options import IntList, writing_options


@click.command("make-knn")
@click.argument("model", type=click.Path(path_type=str))
@click.option("--features", metavar="BLOB",
              help="The blob to take features from [default: the input of the classifier's innerProduct, or a "
                   "feature extractor's single output].")
@click.option("-k", "k", type=int, default=3, show_default=True, help="Number of neighbours that vote.")
@click.option("--k-range", type=IntList(), default="1,1000", show_default=True,
              help="MIN,MAX: the k values the app may choose at run time.")
@click.option("--distance", type=click.Choice(["euclidean"]), default="euclidean", show_default=True,
              help="Distance between feature vectors (Core ML has squared Euclidean only).")
@click.option("--weighting", type=click.Choice(["uniform", "inverse"]), default="uniform", show_default=True,
              help="Each neighbour's vote: 1, or 1 / distance.")
@click.option("--index", type=click.Choice(["linear", "kd-tree"]), default="linear", show_default=True,
              help="How examples are searched.")
@click.option("--leaf-size", type=int, default=30, show_default=True, help="kd-tree leaf size.")
@click.option("--labels", type=click.Choice(["string", "int"]),
              help="Label type [default: the classifier's own, else string].")
@click.option("--default-label", help="Label predicted before any example is added [default: unknown, or -1].")
@writing_options("knn", what="the pipeline")
def make_knn_command(model, features, k, k_range, distance, weighting, index, leaf_size, labels, default_label,
                     output, in_place, force, dry_run):
    """Turn MODEL into a pipeline: its network cut at --features, then an empty updatable k-NN classifier.

    A Create ML classifier (a feature print followed by a GLM) keeps its feature print and gets a k-NN in place of
    the GLM. Train it on the device with MLUpdateTask (one pass: the k-NN stores the examples).
    """
    from ..jobs import make_knn_file
    from ..errors import UsageError
    from ..ops.knn import KnnSettings
    from .options import default_output_path, report_job

    if len(k_range) != 2:
        raise UsageError(f"--k-range {','.join(map(str, k_range))}: give MIN,MAX (e.g. 1,10)")
    settings = KnnSettings(k=k, k_range=tuple(k_range), weighting=weighting, index=index, leaf_size=leaf_size,
                           labels=labels, default_label=default_label)
    output = output or default_output_path(model, "knn")
    report_job(lambda: make_knn_file(model, output, features, settings, force=force, dry_run=dry_run,
                                     in_place=in_place), dry_run=dry_run)
