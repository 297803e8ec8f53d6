"""`make run` end to end: `python -m shared.devrun` on spare ports, its banner, the services,
and Ctrl-C leaving nothing behind.

One stack serves the module (starting it costs seconds); the Ctrl-C test stops it, so it
comes last.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.devstack import port_is_free, spare_port
from shared.devstack.banner import READY_LINE
from tests.support.processes import processes_under
from tests.support.typed import present

REPO = Path(__file__).resolve().parents[3]
CLI = Path(sys.executable).parent / "latchkey"
PORT_VARS = ("LATCHKEY_DEV_PG_PORT", "LATCHKEY_DEV_REDIS_PORT", "LATCHKEY_AUTHORIZE_PORT",
             "LATCHKEY_TOKEN_PORT", "LATCHKEY_RESOURCE_PORT", "LATCHKEY_DEMO_PORT", "LATCHKEY_ADMIN_PORT")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="leftover checks read /proc")
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Stack:
    proc: subprocess.Popen[bytes]
    devdata: Path
    ports: dict[str, int]
    output: str

    def read_until(self, marker: str, timeout: float) -> None:
        """Collect output until a line containing marker; fail with the output so far."""
        deadline = time.monotonic() + timeout
        stdout = present(self.proc.stdout)  # stdout=PIPE
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while marker not in self.output:
                if time.monotonic() > deadline or not selector.select(deadline - time.monotonic()):
                    pytest.fail(f"no {marker!r} within {timeout:.0f} s; output:\n{self.output}")
                # Raw reads: a buffered reader could hold lines the selector no longer sees.
                chunk = os.read(stdout.fileno(), 65536)
                if not chunk:
                    pytest.fail(f"make run exited ({self.proc.wait()}) before {marker!r}; output:\n{self.output}")
                self.output += chunk.decode(errors="replace")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if not CLI.exists():
        pytest.skip(f"{CLI} is not installed yet (make install)")
    devdata = Path(tempfile.mkdtemp(prefix="latchkey-devrun-"))
    ports = {name: spare_port() for name in PORT_VARS}
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("LATCHKEY_")}
    env.update({name: str(port) for name, port in ports.items()}, LATCHKEY_DEVDATA=str(devdata))
    proc = subprocess.Popen([sys.executable, "-m", "shared.devrun"], cwd=REPO, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield Stack(proc, devdata, ports, "")
    finally:
        if proc.poll() is None:
            proc.kill()  # its children follow it (PR_SET_PDEATHSIG)
            proc.wait()
        present(proc.stdout).close()
        deadline = time.monotonic() + 15
        while (leftovers := processes_under(devdata)) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(devdata, ignore_errors=True)
        assert not leftovers, f"processes left running under {devdata}: {leftovers}"


def test_banner_shows_where_to_go_and_the_demo_credentials(stack: Stack) -> None:
    stack.read_until(READY_LINE, 60)
    stack.read_until("  logs", 5)
    assert "demo user" in stack.output and "password: " in stack.output
    assert "secret: " in stack.output
    assert f"127.0.0.1:{stack.ports['LATCHKEY_DEV_PG_PORT']}" in stack.output
    assert (stack.devdata / "kek").stat().st_mode & 0o777 == 0o600


def test_the_admin_api_answers_on_loopback_with_the_printed_token(stack: Stack) -> None:
    stack.read_until(READY_LINE, 60)
    stack.read_until("  logs", 5)
    base = f"http://127.0.0.1:{stack.ports['LATCHKEY_ADMIN_PORT']}/admin/v1/"
    assert base in stack.output
    token = re.search(r"admin token\s+(lka_\S+)", stack.output)
    assert token, stack.output
    request = urllib.request.Request(base + "keys", headers={"Authorization": f"Bearer {token[1]}"})
    with _http.open(request, timeout=5) as response:
        assert response.status == 200 and json.loads(response.read())["items"]


def _second_terminal(devdata: Path) -> dict[str, str]:
    """A newcomer's other shell: none of the stack's variables, only where its data is."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("LATCHKEY_")}
    return {**env, "LATCHKEY_DEVDATA": str(devdata)}


def test_the_env_file_lets_a_shell_run_the_cli_against_the_stack(stack: Stack) -> None:
    stack.read_until(READY_LINE, 60)
    env_file = stack.devdata / "env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert f"export DATABASE_URL=postgresql://postgres@127.0.0.1:{stack.ports['LATCHKEY_DEV_PG_PORT']}/" in \
        env_file.read_text()
    assert f". {env_file}" in stack.output  # the banner says where it is
    done = subprocess.run(["sh", "-c", f'. "{env_file}" && "{CLI}" keys list --json'], cwd=REPO,
                          env=_second_terminal(stack.devdata), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert {key["alg"] for key in json.loads(done.stdout) if key["status"] == "active"} >= {"RS256", "ES256"}


def test_make_cli_runs_latchkey_with_the_stacks_environment(stack: Stack) -> None:
    """keys rotate needs the key-encryption key: `make cli` has it from the env file."""
    if shutil.which("make") is None or not (Path(sys.prefix) / ".installed").exists():
        pytest.skip("needs make and a virtual environment made by `make install`")
    stack.read_until(READY_LINE, 60)
    done = subprocess.run(["make", "--no-print-directory", f"VENV={sys.prefix}", "cli", "ARGS=keys rotate --json"],
                          cwd=REPO, env=_second_terminal(stack.devdata), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    rotated = json.loads(done.stdout)  # one object: the first new key's fields, every new key under "keys"
    assert isinstance(rotated, dict) and rotated["kid"] == rotated["keys"][0]["kid"]
    assert {key["status"] for key in rotated["keys"]} == {"next"}


def test_authorize_answers_health_and_discovery_on_its_port(stack: Stack) -> None:
    if not (REPO / "services" / "authorize" / "__init__.py").exists():
        pytest.skip("services/authorize does not exist yet, so make run starts no authorize service")
    stack.read_until(READY_LINE, 60)
    port = stack.ports["LATCHKEY_AUTHORIZE_PORT"]
    with _http.open(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert response.status == 200
    with _http.open(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=5) as response:
        discovery = json.load(response)
    # The public URLs follow the overridden ports.
    assert discovery["issuer"] == f"http://localhost:{port}"
    assert discovery["token_endpoint"].startswith(f"http://localhost:{stack.ports['LATCHKEY_TOKEN_PORT']}/")
    assert "discovery" in stack.output and f"http://localhost:{port}/.well-known/openid-configuration" in stack.output


def test_ctrl_c_stops_everything_and_exits_zero(stack: Stack) -> None:
    stack.read_until(READY_LINE, 60)
    stack.proc.send_signal(signal.SIGINT)
    rest = stack.proc.communicate(timeout=45)[0].decode(errors="replace")
    assert stack.proc.returncode == 0, stack.output + rest
    assert "Stopped." in rest
    assert processes_under(stack.devdata) == []
    assert not (stack.devdata / "env").exists(), "the env file outlived the stack it describes"
    busy = [name for name, port in stack.ports.items() if not port_is_free(port)]
    assert not busy, f"still listening after Ctrl-C: {busy}"
