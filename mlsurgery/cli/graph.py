import click


@click.command("graph")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="model.html (self-contained, interactive) or model.svg (static).")
def graph_command(model: str, output: str):
    """A picture of the network: layers coloured by training role, Core ML's backprop route, folded frozen runs."""
    from pathlib import Path

    from ..errors import UsageError
    from ..picture import write_picture
    from .options import read_model

    if Path(output).exists() and Path(model).exists() and Path(output).samefile(model):
        raise UsageError(f"{output}: output is the input model; choose another -o path")
    written = write_picture(read_model(model, stored_weights=True), output, Path(model).name)
    click.echo(f"wrote {written}", err=True)
