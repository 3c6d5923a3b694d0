"""The reports: the goal board, refused without its token."""

from __future__ import annotations

import json

import requests

from demo.harness import Demo, DemoError
from plugin.rules.reports.wording import say


def scene_board(demo: Demo) -> None:
    """12. The goal board: its address, and the department figures for this run."""
    # The board counts the item mirror, which the worker brings up to date every minute; the
    # demo reads it now, as an operator can, so the figures include the last scene.
    demo.crossdept_command("mirror", "rebuild")
    token = demo.environment["CROSSDEPT_BOARD_TOKEN"]
    address = f"{demo.service_url}/board"
    answer = requests.get(address, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    title = say(demo.rules, "board.title")
    if answer.status_code != 200 or title not in answer.text:
        raise DemoError(f"the board answered {answer.status_code} without its title {title!r}")
    refused = requests.get(address, timeout=30).status_code
    table = demo.crossdept_command("report", "departments")
    figures = json.loads(demo.crossdept_command("report", "departments", "--format", "json"))
    demo.say("12. The goal board (without the token it answers " + str(refused) + ")")
    demo.say(f"   {address}?token={token}")
    for line in table.splitlines():
        demo.say(f"   {line}")
    demo.say("")
    demo.summary["board"] = {
        "url": address,
        "status": answer.status_code,
        "without_token": refused,
        "departments": figures["departments"],
    }


SCENES = (scene_board,)
