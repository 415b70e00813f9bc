"""The Procfile and scripts/run, started as an operator would start them."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).parent.parent
pytestmark = [pytest.mark.processes, pytest.mark.serial]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


class Process:
    """A command in its own process group, its output collected line by line."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.popen = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for_line(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.popen.poll() is None, "exited early:\n" + "".join(self.output)
                continue
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in:\n" + "".join(self.output))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
        return self.popen.wait(timeout=timeout)


def wait_until(check, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (requests.ConnectionError, requests.Timeout):
            # Not up yet: gunicorn accepts connections while its worker is still building the app
            # (seconds on a loaded machine).
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def environment(sqlite_template, tmp_path) -> dict[str, str]:
    database = tmp_path / "callcenter.db"
    shutil.copy(sqlite_template, database)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "API_KEYS", "APP_ENV", "INSTANCE_PATH", "PORT"}
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}:{env['PATH']}",
        DATABASE_URL=f"sqlite:///{database}",
        INSTANCE_PATH=str(tmp_path / "instance"),
        HOST="127.0.0.1",
        PORT=str(free_port()),
    )
    return env


def test_the_procfile_web_and_worker_serve_the_api_and_beat(environment):
    env = {
        **environment,
        "APP_ENV": "production",
        "SECRET_KEY": "a-production-secret-for-this-test-only",
        "VERIFICATION_KEYS": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "API_KEYS": "process-test-key",
        "WORKER_HEARTBEAT_SECONDS": "0.5",
        "WEB_CONCURRENCY": "1",
    }
    commands = procfile()
    assert set(commands) == {"web", "worker"}
    web = Process(["bash", "-c", commands["web"]], env)
    worker = Process(["bash", "-c", commands["worker"]], env)
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        health = wait_until(
            lambda: (body := requests.get(f"{base}/healthz", timeout=2).json())["worker"] and body
        )
        created = requests.post(
            f"{base}/api/v1/customers",
            json={"external_id": "p-1", "phone": "+48 601 234 567"},
            headers={"Authorization": "Bearer process-test-key"},
            timeout=5,
        )
    finally:
        web_status = web.stop()
        worker_status = worker.stop()

    assert health["database"] == "ok"
    assert created.status_code == 201
    assert created.json()["phone"] == "+48601234567"
    assert worker_status == 0, "".join(worker.output)
    assert any('"worker stopped"' in line for line in worker.output)
    assert web_status in (0, -signal.SIGTERM)


def test_scripts_run_migrates_seeds_starts_both_processes_and_stops_on_ctrl_c(environment):
    env = {**environment, "VENV": sys.prefix}
    env.pop("DATABASE_URL")  # the embedded default: SQLite under INSTANCE_PATH
    run = Process([str(ROOT / "scripts" / "run")], env)
    try:
        running = run.wait_for_line("The call center is running at", timeout=120)
        key_line = run.wait_for_line("API key for this machine:", timeout=5)
        url = running.rsplit(" ", 1)[1].strip()
        key = key_line.split(":", 1)[1].split()[0]
        health = wait_until(
            lambda: (body := requests.get(f"{url}/healthz", timeout=2).json())["worker"] and body
        )
        demo = requests.get(
            f"{url}/api/v1/customers",
            params={"external_id": "demo-it-1"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=5,
        )
    finally:
        status = run.stop(signal.SIGINT)

    assert url == f"http://127.0.0.1:{env['PORT']}"
    assert health["database_backend"] == "sqlite"
    assert health["telephony"] == "simulator"
    assert (Path(env["INSTANCE_PATH"]) / "callcenter.db").exists()
    assert demo.status_code == 200
    assert demo.json()["locale"] == "it"
    assert status == 0, "".join(run.output)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/healthz", timeout=2)
