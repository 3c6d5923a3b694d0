"""What deploy/ ships: systemd units that listen on loopback and are hardened, and the nginx
configuration in front, run here in front of a real crossdept against slow clients."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.processes import free_port

REPO = Path(__file__).resolve().parents[1]
UNITS = sorted((REPO / "deploy" / "systemd").glob("*.service"))
NGINX = REPO / "deploy" / "nginx"
HARDENING = {
    "NoNewPrivileges": "yes",
    "UMask": "0077",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "RestrictSUIDSGID": "yes",
    "CapabilityBoundingSet": "",
}


def directives(unit: Path) -> dict[str, str]:
    found = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            found[name.strip()] = value.strip()
    return found


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_every_unit_is_hardened(unit: Path) -> None:
    found = directives(unit)
    assert {name: found.get(name) for name in HARDENING} == HARDENING
    assert found["ReadWritePaths"] == "/srv/crossdept/data"


def test_the_web_unit_listens_on_loopback_only_behind_nginx() -> None:
    [web] = [u for u in UNITS if u.name.startswith("crossdept-web")]
    command = directives(web)["ExecStart"].split()
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert "server 127.0.0.1:8080;" in (NGINX / "crossdept.conf").read_text(encoding="utf-8")


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        if os.environ.get("CROSSDEPT_TEST_NGINX") == "required":
            pytest.fail("nginx is not installed, but CROSSDEPT_TEST_NGINX=required")
        pytest.skip("nginx is not installed (CI installs it: Debian's nginx package)")
    return found


def nginx_conf(directory: Path, listen: int, upstream: int) -> Path:
    """A whole nginx.conf around the shipped proxy file: plain HTTP on a free port, as a user."""
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""
pid {directory}/nginx.pid;
error_log {directory}/error.log;
worker_processes 1;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    upstream crossdept {{ server 127.0.0.1:{upstream}; keepalive 4; }}
    server {{
        listen 127.0.0.1:{listen};
        include {NGINX / "crossdept-proxy.conf"};
    }}
}}
""",
        encoding="utf-8",
    )
    return conf


def test_the_shipped_nginx_configuration_is_valid(tmp_path: Path) -> None:
    nginx = nginx_binary()
    shipped = (NGINX / "crossdept.conf").read_text(encoding="utf-8")
    # The shipped server blocks, with a certificate made here and the proxy file from the repo.
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=crossdept.example.com", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    server = (
        shipped.replace(
            "/etc/nginx/conf.d/crossdept-proxy.conf", str(NGINX / "crossdept-proxy.conf")
        )
        .replace("/etc/letsencrypt/live/crossdept.example.com/fullchain.pem", str(cert))
        .replace("/etc/letsencrypt/live/crossdept.example.com/privkey.pem", str(key))
    )
    (tmp_path / "crossdept.conf").write_text(server, encoding="utf-8")
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ include {tmp_path}/crossdept.conf; }}\n",
        encoding="utf-8",
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


@pytest.fixture
def crossdept_web(cli_environment: dict[str, str], tmp_path: Path) -> Iterator[int]:
    """`crossdept serve --no-worker` with one process of 2 threads; yields its port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSDEPT_")}
    env.update(cli_environment, PYTHONPATH=str(REPO))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-c", "from webhooks.cli import main; main()", "serve"]
    command += ["--no-worker", "--host=127.0.0.1", f"--port={port}", "--workers=1", "--threads=2"]
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=log)
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz")
            yield port
        finally:
            server.terminate()
            server.wait(timeout=60)


def slow_clients(port: int, count: int) -> list[socket.socket]:
    """Clients that announce a webhook body and then send it a byte at a time, very slowly."""
    held = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client.sendall(
            b"POST /webhooks/jira HTTP/1.1\r\nHost: crossdept\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
        )
        held.append(client)
    return held


def healthz_seconds(port: int) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
        assert answer.status == 200
    return time.monotonic() - started


def test_slow_clients_in_front_of_nginx_do_not_hold_crossdept(
    crossdept_web: int, tmp_path: Path
) -> None:
    nginx = nginx_binary()
    port = free_port()
    conf = nginx_conf(tmp_path, port, crossdept_web)
    started = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    held: list[socket.socket] = []
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", seconds=10)
        held = slow_clients(port, 16)  # 8 times crossdept's 2 threads
        time.sleep(0.5)
        assert healthz_seconds(port) < 2  # answered at once: nginx holds the slow ones
    finally:
        for client in held:
            client.close()
        started.terminate()
        started.wait(timeout=10)


def test_the_lock_file_pins_every_dependency_within_its_floor_with_hashes() -> None:
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(text) for text in project["dependencies"]]
    wanted += [
        Requirement(text)
        for extra in ("postgres", "redis")
        for text in project["optional-dependencies"][extra]
    ]
    lock = (REPO / "requirements.lock").read_text(encoding="utf-8")
    pinned: dict[str, str] = {}
    for block in lock.split("\n"):
        if "==" in block and not block.startswith((" ", "#")):
            name, _, rest = block.partition("==")
            pinned[canonicalize_name(name)] = rest.split()[0]
    for requirement in wanted:
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in requirements.lock"
        assert requirement.specifier.contains(version), f"{requirement} but the lock pins {version}"
    entries = [part for part in lock.split("\n") if part and not part.startswith((" ", "#"))]
    assert all("\\" in entry for entry in entries), "every pin carries its hashes"
    assert "--index-url" not in lock and "--find-links" not in lock  # nothing of one machine
