"""Run the demo: start the sandbox and `crossdept serve`, play the scenes, stop everything."""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Mapping
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path
from typing import Any

from demo.harness import (
    CROSSDEPT_LOGIN,
    REQUESTER_LOGIN,
    Demo,
    DemoError,
    DemoOptions,
    Say,
    config_file,
    rules_for_data_center,
    rules_with_groups,
)
from demo.processes import (
    free_port,
    sandbox_log,
    seed_user,
    service_environment,
    service_process,
    stop_on_sigterm,
    wait_healthy,
)
from demo.scenes import SCENES, Scene
from plugin.atlassian.jira_gateway import JiraGateway
from plugin.composition import load_rules
from plugin.spine.deliveries import Deliveries
from plugin.spine.errors import GatewayError
from plugin.spine.store import Store
from sandbox.app import Sandbox
from sandbox.seed import SEEDS, Flavour, load_seed
from sandbox.server import SandboxServer

log = logging.getLogger(__name__)


def run_demo(
    options: DemoOptions, say: Say, *, scenes: tuple[Scene, ...] = SCENES
) -> dict[str, Any]:
    """Start everything, play the scenes, stop everything; return the summary (raises DemoError)."""
    began = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="crossdept-demo-"))
    log_path = data_dir / "service.log"
    keep = options.verbose
    try:
        with ExitStack() as stack:
            stack.enter_context(stop_on_sigterm())
            stack.enter_context(sandbox_log(data_dir / "sandbox.log"))
            flavour: Flavour = "datacenter" if options.data_center else "cloud"
            seed = load_seed(SEEDS[flavour])
            rules_source = options.rules or config_file("rules.yaml")
            load_rules(rules_source)  # the admin's own file, reported with its own lines
            crossdept = seed_user(seed, CROSSDEPT_LOGIN)
            requester_user = seed_user(seed, REQUESTER_LOGIN)

            port = free_port()
            service_url = f"http://127.0.0.1:{port}"
            webhook_secret = secrets.token_hex(32)
            sandbox = Sandbox(seed, webhook_secret=webhook_secret)
            sandbox_server = SandboxServer(sandbox, "127.0.0.1", 0)
            sandbox_server.start()
            stack.callback(sandbox_server.stop)
            # The shipped rules, moved to Data Center where it runs, with each department's
            # group robot in the sandbox (their addresses in the environment, as an admin sets).
            text = rules_source.read_text(encoding="utf-8")
            if not seed.is_cloud:
                text = rules_for_data_center(text, seed)
            text, robots = rules_with_groups(text, sandbox.robots, origin=sandbox_server.url)
            rules_path = data_dir / "rules.yaml"
            rules_path.write_text(text, encoding="utf-8")
            rules = load_rules(rules_path)
            environment = {
                **service_environment(
                    seed,
                    crossdept,
                    sandbox_url=sandbox_server.url,
                    webhook_secret=webhook_secret,
                    rules_path=rules_path,
                    data_dir=data_dir,
                ),
                **robots,
            }
            service = stack.enter_context(service_process(environment, port, log_path, data_dir))
            wait_healthy(service_url, service, options.timeout_s)
            store = Store(f"sqlite:///{data_dir / 'crossdept.db'}")
            stack.callback(store.dispose)
            # The requester's own login (the sandbox checks who, not the password). They use
            # the same REST client crossdept does, so every request they send is checked too.
            login = requester_user.email if seed.is_cloud else requester_user.login
            try:
                requester = JiraGateway.connect(
                    sandbox_server.url, email=login, api_token=secrets.token_urlsafe(12)
                )
            except GatewayError as error:
                raise DemoError(f"the sandbox did not answer the requester: {error}") from None
            demo = Demo(
                options=options,
                say=say,
                data_dir=data_dir,
                seed=seed,
                rules=rules,
                rules_path=rules_source,
                sandbox=sandbox,
                sandbox_server=sandbox_server,
                service_url=service_url,
                service=service,
                log_path=log_path,
                deliveries=Deliveries(store),
                requester=requester,
                crossdept=crossdept,
                environment=environment,
            )
            stack.callback(demo.close)
            for scene in scenes:
                scene(demo)
            if sandbox.violations:
                listing = "; ".join(str(v) for v in sandbox.violations)
                raise DemoError(f"requests the real Jira would refuse: {listing}")
            summary = demo.summary
            summary["spec_violations"] = []
            if options.keep:
                say(
                    f"Kept running: the board at {service_url}/board, Jira at {sandbox_server.url}."
                )
                say("Press Ctrl-C to stop everything.")
                try:
                    while True:
                        time.sleep(1)
                except KeyboardInterrupt:
                    say("")
        summary["seconds"] = round(time.monotonic() - began, 2)
        if keep:
            summary["data_dir"] = str(data_dir)
            summary["service_log"] = str(log_path)
        return summary
    except DemoError as error:
        keep = True  # leave the log for whoever reads the error
        if str(log_path) not in str(error):
            raise DemoError(f"{error}\n  the service log is kept: {log_path}") from None
        raise
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def summary_json(summary: Mapping[str, Any]) -> str:
    """The summary as `--json` prints it."""
    return json.dumps(summary, ensure_ascii=False, indent=2, default=plain_json)


def plain_json(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
