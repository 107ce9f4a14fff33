"""`tap-tiktok-shop-auth login` end to end on the emulator: loopback listener and pasted URL.

The success paths run the real command as a process, follow the URL it prints like a browser
(the emulator's consent page redirects at once) and then run the tap on the config written.
Failure paths run in-process, the listener ones in a thread, to keep the suite fast.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result
from dotenv import dotenv_values

from tap_tiktok_shop.authorize.cli import cli
from tap_tiktok_shop.authorize.consent import ConsentError, LoopbackListener
from tests.conftest import REPO, assert_no_secrets, catalog_selecting, run_tap
from tiktok_shop_emulator import Emulator

ENV_BEFORE = (
    "# project secrets\n"
    "TARGET_POSTGRES_PASSWORD='pw'\n"
    "TAP_TIKTOK_SHOP_REFRESH_TOKEN=an-old-token\n"
    "TAP_TIKTOK_SHOP_START_DATE=2025-01-01\n"
)


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TAP_TIKTOK_SHOP_"):
            monkeypatch.delenv(name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def login_args(emu: Emulator, *extra: str) -> list[str]:
    return [
        "login",
        "--service-id",
        "7001",
        "--region",
        "GB",
        "--no-browser",
        "--authorize-base-url",
        emu.base_url,
        "--auth-base-url",
        emu.base_url,
        "--api-base-url",
        emu.base_url,
        "--app-key",
        emu.config.app_key,
        *extra,
    ]


def secret_env(emu: Emulator) -> dict[str, str]:
    return {"TAP_TIKTOK_SHOP_APP_SECRET": emu.config.app_secret}


# --- the real command, as a process ------------------------------------------------------------


@dataclass
class Helper:
    """The helper as a process; its stderr goes to a file the test can read while it runs."""

    process: subprocess.Popen[str]
    stderr_file: Path

    @classmethod
    def start(cls, args: list[str], env: dict[str, str], tmp_path: Path) -> Helper:
        base = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_SHOP_")}
        stderr_file = tmp_path / "helper-stderr.txt"
        with stderr_file.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "tap_tiktok_shop.authorize", *args],
                cwd=REPO,
                env={**base, **env},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        return cls(process, stderr_file)

    def link(self) -> str:
        """Wait for the authorization URL the helper prints on stderr."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in self.stderr_file.read_text().splitlines():
                if line.strip().startswith("http"):
                    return line.strip()
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.process.kill()
        pytest.fail(f"the helper printed no URL: {self.stderr_file.read_text()}")

    def finish(self, stdin: str | None = None) -> tuple[int, str, str]:
        stdout, _ = self.process.communicate(stdin, timeout=60)
        return self.process.returncode, stdout, self.stderr_file.read_text()


def test_login_on_loopback_writes_private_files_the_tap_then_runs_on(emulator_factory, tmp_path):
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    emu = emulator_factory(shops=2, orders_per_shop=25, redirect_uri=redirect_uri)
    first, second = (shop["id"] for shop in emu.shops())
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "api_base_url": emu.base_url,
                "auth_base_url": emu.base_url,
                "start_date": "2000-01-01",
                "request_timeout": 10,
            }
        )
    )
    config.chmod(0o644)
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_BEFORE)
    env_file.chmod(0o644)

    helper = Helper.start(
        [
            "login",
            "--service-id",
            "7001",
            "--region",
            "GB",
            "--no-browser",
            "--authorize-base-url",
            emu.base_url,
            "--redirect-uri",
            redirect_uri,
            "--app-key",
            emu.config.app_key,
            "--config",
            str(config),
            "--shop-id",
            first,
            "--write-config",
            str(config),
            "--write-env",
            str(env_file),
        ],
        secret_env(emu),
        tmp_path,
    )
    link = helper.link()
    assert link.startswith(f"{emu.base_url}/open/authorize?service_id=7001&state=")
    browser = requests.get(link, timeout=30)  # the consent page redirects to the listener
    assert browser.status_code == 200
    assert "Authorization received" in browser.text
    returncode, stdout, stderr = helper.finish()
    assert returncode == 0, stderr
    assert f"Waiting for the redirect to {redirect_uri}" in stderr
    assert_no_secrets(stdout + stderr, emu.issued_secrets())
    assert "Demo Shop 1" in stdout
    assert "Demo Shop 2" in stdout
    assert f"The tap will sync only: {first}" in stdout

    saved = json.loads(config.read_text())
    assert saved == {
        "api_base_url": emu.base_url,
        "auth_base_url": emu.base_url,
        "start_date": "2000-01-01",
        "request_timeout": 10,
        "app_key": emu.config.app_key,
        "app_secret": emu.config.app_secret,
        "refresh_token": emu.tokens.current_refresh_token(),
        "shop_ids": [first],
    }
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    lines = env_file.read_text().splitlines()
    assert lines[:4] == [
        "# project secrets",
        "TARGET_POSTGRES_PASSWORD='pw'",
        f"TAP_TIKTOK_SHOP_REFRESH_TOKEN='{emu.config.refresh_token}'",
        "TAP_TIKTOK_SHOP_START_DATE=2025-01-01",
    ]
    assert json.loads(dotenv_values(env_file)["TAP_TIKTOK_SHOP_SHOP_IDS"] or "") == [first]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600

    # The config works as written (for orders: from 2000 on, analytics would ask every day).
    run = run_tap(tmp_path / "tap", emu, saved, catalog=catalog_selecting(["shops", "orders"]))
    assert run.returncode == 0, run.stderr
    assert [shop["id"] for shop in run.records("shops")] == [first]
    orders = run.records("orders")
    assert {order["shop_id"] for order in orders} == {first} != {second}
    assert len(orders) == 25


def test_login_with_a_pasted_redirect_url(emulator, tmp_path):
    config = tmp_path / "config.json"
    helper = Helper.start(
        login_args(emulator, "--write-config", str(config)), secret_env(emulator), tmp_path
    )
    link = helper.link()
    consent = requests.get(link, allow_redirects=False, timeout=30)
    location = consent.headers["Location"]  # what the browser's address bar shows
    assert location.startswith(emulator.config.redirect_uri + "?code=")
    returncode, stdout, stderr = helper.finish(location + "\n")
    assert returncode == 0, stderr
    assert "paste it here" in stderr
    assert_no_secrets(stdout + stderr, emulator.issued_secrets())
    saved = json.loads(config.read_text())
    assert saved["refresh_token"] == emulator.config.refresh_token
    assert "shop_ids" not in saved
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


# --- failures, in-process ---------------------------------------------------------------


def invoke(emu: Emulator, args: list[str], **kwargs: t.Any) -> Result:
    result = CliRunner().invoke(cli, args, env=secret_env(emu), **kwargs)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    assert_no_secrets(result.stdout + result.stderr, emu.issued_secrets())
    return result


def error_line(result: Result) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.mark.parametrize(
    ("pasted", "fragment"),
    [
        (
            "https://app.example/cb?code=null&error=auth_denied\n",
            "did not authorize the app (error=auth_denied)",
        ),
        ("https://app.example/cb?state=whatever\n", "the redirect URL has no code"),
        ("https://app.example/cb?code=TTP_forged&state=forged\n", "state mismatch"),
        ("https://app.example/cb?code=TTP_forged\n", "state mismatch"),
        ("\n", "no redirect URL or code"),
        ("", "no redirect URL or code"),
    ],
)
def test_pasted_redirect_problems_stop_before_any_token_call(emulator, tmp_path, pasted, fragment):
    result = invoke(
        emulator, login_args(emulator, "--write-config", str(tmp_path / "c.json")), input=pasted
    )
    assert result.exit_code == 1
    assert fragment in error_line(result)
    assert emulator.stats.count("/api/v2/token/get") == 0
    assert not (tmp_path / "c.json").exists()


def test_a_pasted_bare_code_is_accepted_with_a_note(emulator, tmp_path):
    result = invoke(
        emulator,
        login_args(emulator, "--write-env", str(tmp_path / ".env")),
        input=emulator.issue_auth_code() + "\n",
    )
    assert result.exit_code == 0, result.stderr
    assert "a bare code carries no state" in result.stderr
    assert (tmp_path / ".env").exists()


def wait_until_listening(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail("the helper never listened")


def listen(state: str, wait: float) -> tuple[int, threading.Thread, dict[str, t.Any]]:
    """A loopback listener for ``state`` waiting ``wait`` s in a thread; its port and outcome."""
    port = free_port()
    outcome: dict[str, t.Any] = {}

    def serve() -> None:
        started = time.monotonic()
        with LoopbackListener(f"http://localhost:{port}/cb", state) as listener:
            try:
                outcome["redirect"] = listener.wait(wait)
            except ConsentError as exc:
                outcome["error"] = str(exc)
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=serve)
    worker.start()
    wait_until_listening(port)
    return port, worker, outcome


def test_listener_ignores_redirects_without_this_logins_state(emulator):
    port, worker, outcome = listen("the-state", 30)
    assert requests.get(f"http://127.0.0.1:{port}/favicon.ico", timeout=10).status_code == 404
    for query in ("code=TTP_forged&state=forged", "error=auth_denied", "state=abc", ""):
        page = requests.get(f"http://127.0.0.1:{port}/cb?{query}", timeout=10)
        assert page.status_code == 400
        assert "wrong or missing state" in page.text
        assert outcome == {}  # still waiting: a stray request cannot end the login
    page = requests.get(f"http://127.0.0.1:{port}/cb?code=TTP_real&state=the-state", timeout=10)
    worker.join(timeout=30)
    assert page.status_code == 200
    assert outcome["redirect"].code == "TTP_real"


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("code=null&error=auth_denied&state=s1", "error=auth_denied"),
        ("state=s1", "the redirect URL has no code"),
    ],
)
def test_listener_ends_on_a_decline_or_an_empty_redirect_with_its_state(emulator, query, fragment):
    port, worker, outcome = listen("s1", 30)
    page = requests.get(f"http://127.0.0.1:{port}/cb?{query}", timeout=10)
    worker.join(timeout=30)
    assert page.status_code == 400
    assert "Authorization failed" in page.text
    assert fragment in outcome["error"]


def test_a_silent_connection_cannot_hold_the_listener_past_wait(emulator):
    port, worker, outcome = listen("s1", 1.0)
    with socket.create_connection(("127.0.0.1", port)):  # connects, never sends a request
        worker.join(timeout=30)
    assert "no redirect reached" in outcome["error"]
    assert outcome["seconds"] < 4  # not the 10 s per-connection timeout of before


def test_listener_gives_up_after_wait(emulator):
    port = free_port()
    result = invoke(
        emulator,
        login_args(
            emulator,
            "--redirect-uri",
            f"http://127.0.0.1:{port}/cb",
            "--wait",
            "0.3",
            "--show-secrets",
        ),
    )
    assert result.exit_code == 1
    assert f"no redirect reached http://127.0.0.1:{port}/cb within 0.3 s" in error_line(result)


def test_listener_port_in_use_is_one_error_line(emulator):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = invoke(
            emulator,
            login_args(emulator, "--redirect-uri", f"http://127.0.0.1:{port}/cb", "--show-secrets"),
        )
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in error_line(result)
    assert "--paste" in error_line(result)


def test_login_checks_what_it_needs_before_the_seller_is_sent_anywhere(emulator, tmp_path):
    no_output = invoke(emulator, login_args(emulator))
    assert no_output.exit_code == 2
    assert "nothing would keep the tokens" in error_line(no_output)
    not_json = tmp_path / "config.json"
    not_json.write_text("{oops")
    bad_file = invoke(emulator, login_args(emulator, "--write-config", str(not_json)))
    assert bad_file.exit_code == 1
    assert "not a JSON object" in error_line(bad_file)
    no_secret = CliRunner().invoke(cli, login_args(emulator, "--show-secrets"))
    assert no_secret.exit_code == 1
    assert "app_secret: not set" in error_line(no_secret)
    for result in (no_output, bad_file, no_secret):
        assert "open/authorize" not in result.stderr  # no URL was shown
