"""A stateful stand-in for the parts of Confluence's REST API (v1 and v2) crossdept relies on.

One site (`site`: spaces, pages, properties, CQL) served through two APIs in their own shapes
(`v1`, `v2`); `calls` reads a request, `model` holds what a site stores and the rules its bodies
and titles obey, and `fake` routes each request to its API.
"""

from sandbox.confluence.fake import ConfluenceFake
from sandbox.confluence.model import ConfluenceError

__all__ = ["ConfluenceError", "ConfluenceFake"]
