"""Compose every concern's router into the one the worker dispatches through."""

from __future__ import annotations

from plugin.routing import Router


def build_router() -> Router:
    """Return the router of all rules; imported late so each concern stays its own module."""
    from plugin import trees

    return Router(trees.router)
