"""The demo's scenes, one module per rule (and the service's own), played in the order of
`SCENES`: each acts as a user or as Jira would, says what happened and records the facts.

A new rule's scene is a module here, named once in `SCENES`.
"""

from collections.abc import Callable

from demo.harness import Demo
from demo.scenes import escalation, minutes, ownership, reports, service, trees

Scene = Callable[[Demo], None]

SCENES: tuple[Scene, ...] = (
    service.scene_started,
    service.scene_request_filed,
    service.scene_webhook_processed,
    *trees.SCENES,
    *ownership.SCENES,
    *escalation.SCENES,
    *minutes.SCENES,
    *reports.SCENES,
)

__all__ = ["SCENES", "Scene"]
