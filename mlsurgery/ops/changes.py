"""``Changes`` lives in ``mlsurgery.changes`` (model access: ``edit`` returns it); kept here for the operations
that import it from their own package."""

from ..changes import Change, Changes

__all__ = ["Change", "Changes"]
