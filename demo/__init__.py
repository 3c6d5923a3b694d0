"""The demo: a stand-in Jira and the real crossdept service on this machine, and a request filed through them.

`run_demo` starts the sandbox over HTTP and `crossdept serve` (web + worker, as a subprocess,
configured only through CROSSDEPT_* like a real deployment), then plays a list of scenes
(`demo.scenes`). Each scene acts as a user or as Jira would, prints what happened for a newcomer,
and records the facts in the machine-readable summary. `demo.harness` holds the stage the scenes
share; `demo.processes` starts and stops what runs.
"""

from demo.harness import DemoError, DemoOptions
from demo.runner import run_demo, summary_json

__all__ = ["DemoError", "DemoOptions", "run_demo", "summary_json"]
