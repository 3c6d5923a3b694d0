"""The demo's scenes: the service's own, then one module per rule, played in the order of
`plugin.composition.RULES`; each acts as a user or as Jira would, says what happened and records
the facts.

A rule's scene is `demo/scenes/<rule>.py` with its `SCENES`; naming the rule in `RULES` plays it
(the demo stays outside `plugin/`, which never imports the sandbox).
"""

import importlib
from collections.abc import Callable

from demo.harness import Demo
from demo.scenes import service
from plugin.composition import RULES

Scene = Callable[[Demo], None]


def rule_scenes(rule: str) -> tuple[Scene, ...]:
    """The scenes of one rule, from the module named like its folder."""
    scenes: tuple[Scene, ...] = importlib.import_module(f"demo.scenes.{rule}").SCENES
    return scenes


SCENES: tuple[Scene, ...] = (
    service.scene_started,
    service.scene_request_filed,
    service.scene_webhook_processed,
    *(scene for rule in RULES for scene in rule_scenes(rule)),
)

__all__ = ["SCENES", "Scene", "rule_scenes"]
