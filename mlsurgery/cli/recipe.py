import click


@click.group("recipe")
def recipe_command():
    """Help for writing recipes (see 'mlsurgery apply' and docs/recipes.md)."""


@recipe_command.command("schema")
def schema_command():
    """Print the JSON Schema of the recipe format, for editor completion and checking.

    For example, save it as recipe.schema.json and put '# yaml-language-server: $schema=recipe.schema.json' at the
    top of a recipe to get completion in editors using the YAML language server.
    """
    import json

    from ..recipe import recipe_json_schema

    click.echo(json.dumps(recipe_json_schema(), indent=2, ensure_ascii=False))
