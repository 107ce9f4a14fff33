"""Issue 14, security (SECURITY.md), on tap-tiktok-shop-auth, the emulator and the build.

Each test fails on the code before the fix: http:// hosts accepted, a redirect followed, a
``.env`` written through a symlink or with an injected line, secrets only on the command
line, raw terminal controls printed, a traceback on an absurd expiry, no lock file.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from importlib.metadata import version

import pytest

from tap_tiktok_shop import private_files
from tap_tiktok_shop.authorize.cli import cli
from tap_tiktok_shop.authorize.outputs import Destinations, write_env
from tap_tiktok_shop.errors import ConfigurationError
from tests.conftest import REPO
from tests.test_authorize_commands import _no_ambient_settings, app, hosts, run, secret_env
from tests.test_security_tap import REFRESH, SHOPS, answer
from tiktok_shop_emulator.__main__ import exposure_warning

__all__ = ["_no_ambient_settings"]  # the fixture, used here too


def refresh_env(emu):
    return {**secret_env(emu), "TAP_TIKTOK_SHOP_REFRESH_TOKEN": emu.config.refresh_token}


# --- M1: http:// only on loopback --------------------------------------------------------------


@pytest.mark.parametrize("option", ["--auth-base-url", "--api-base-url"])
def test_the_helper_refuses_plain_http_to_another_host(emulator, option):
    setting = option[2:].replace("-", "_")
    done = run(
        emulator,
        "refresh",
        *app(emulator),
        option,
        "http://auth.example.com",
        "--show-secrets",
        env=refresh_env(emulator),
    )
    assert done.exit_code == 1
    assert f"{setting}: must be https:// (http:// only for 127.0.0.1/localhost)" in done.error()


def test_the_authorization_page_must_be_https_too(emulator):
    done = run(emulator, "url", "--service-id", "1", "--authorize-base-url", "http://x.example")
    assert done.exit_code == 1
    assert "--authorize-base-url: must be https://" in done.error()


# --- L3: no redirects --------------------------------------------------------------------------


def test_the_helper_follows_no_redirect(emulator_factory, emulator):
    elsewhere = emulator_factory(shops=1, orders_per_shop=1)
    answer(emulator, SHOPS, "", status=301, headers=[("Location", elsewhere.base_url + SHOPS)])
    done = run(emulator, "shops", *app(emulator), env=refresh_env(emulator))
    assert done.exit_code == 1
    assert "HTTP 301 redirect to http://127.0.0.1" in done.error()
    assert elsewhere.stats.count(SHOPS) == 0


# --- L6: hostile answers in what the helper prints ---------------------------------------------


def test_shop_names_are_printed_with_terminal_controls_escaped(emulator):
    shop = {"id": "1", "cipher": "c1", "name": "Evil\x1b]0;owned\x07 Shop", "region": "US"}
    answer(
        emulator,
        SHOPS,
        {"code": 0, "message": "Success", "request_id": "r", "data": {"shops": [shop]}},
    )
    done = run(emulator, "shops", *app(emulator), env=refresh_env(emulator))
    assert done.exit_code == 0, done.stderr
    assert "\x1b" not in done.stdout
    assert "Evil\\x1b]0;owned\\x07 Shop" in done.stdout


def test_an_absurd_expiry_is_shown_as_unknown_not_a_traceback(emulator, tmp_path):
    data = {
        "access_token": "ROW_fake_access",
        "access_token_expire_in": 10**15,
        "refresh_token": emulator.config.refresh_token,
        "refresh_token_expire_in": "99999999999999999999",
        "seller_name": "S\x1b[2J",
    }
    answer(emulator, REFRESH, {"code": 0, "message": "success", "request_id": "r", "data": data})
    done = run(
        emulator,
        "refresh",
        *app(emulator),
        "--write-env",
        str(tmp_path / ".env"),
        env=refresh_env(emulator),
    )
    assert done.exit_code == 0, done.stderr
    assert "Access token expires at an unknown time" in done.stdout
    assert "Refresh token expires at an unknown time" in done.stdout
    assert "S\\x1b[2J" in done.stdout


def test_a_malformed_token_answer_is_one_line_and_saves_nothing(emulator, tmp_path):
    data = {"access_token": "ROW_fake_access", "refresh_token": "r1'\nEVIL=1"}
    answer(emulator, REFRESH, {"code": 0, "message": "success", "request_id": "r", "data": data})
    done = run(
        emulator,
        "refresh",
        *app(emulator),
        "--write-env",
        str(tmp_path / ".env"),
        env=refresh_env(emulator),
    )
    assert done.exit_code == 1
    assert "the token answer's refresh_token: malformed" in done.error()
    assert "EVIL" not in done.stderr
    assert not (tmp_path / ".env").exists()


# --- M2 / L1: the .env writer ------------------------------------------------------------------


@pytest.mark.parametrize("dangling", [True, False])
def test_a_symlinked_env_is_refused_dangling_or_not(tmp_path, dangling):
    target = tmp_path / "elsewhere"
    if not dangling:
        target.write_text("KEEP=1\n")
    link = tmp_path / ".env"
    link.symlink_to(target)
    for attempt in (
        lambda: Destinations(None, link).check(),
        lambda: write_env(link, {"refresh_token": "r1"}),
    ):
        with pytest.raises(ConfigurationError, match="symlink"):
            attempt()
    assert target.exists() is not dangling
    assert dangling or target.read_text() == "KEEP=1\n"


def test_the_env_is_replaced_atomically_by_a_file_private_from_creation(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    path.write_text("OTHER=1\n")
    path.chmod(0o644)
    replaced: list[int] = []
    real_replace = os.replace

    def replace(source, target):
        if os.fspath(target) == os.fspath(path):
            replaced.append(stat.S_IMODE(os.stat(source).st_mode))
        real_replace(source, target)

    monkeypatch.setattr(private_files.os, "replace", replace)
    old_umask = os.umask(0)
    try:
        write_env(path, {"refresh_token": "r1"})
    finally:
        os.umask(old_umask)
    assert replaced == [0o600]
    assert path.read_text() == "OTHER=1\nTAP_TIKTOK_SHOP_REFRESH_TOKEN='r1'\n"


@pytest.mark.parametrize("value", ["r1'\nEVIL=1", 'r1"', "r1\\", "r1\x1b", "r 1", ["7", "8'"]])
def test_values_that_could_break_out_of_their_env_line_are_refused(tmp_path, value):
    path = tmp_path / ".env"
    path.write_text("OTHER=1\n")
    with pytest.raises(ConfigurationError) as caught:
        write_env(path, {"refresh_token": value})
    assert str(caught.value).startswith("TAP_TIKTOK_SHOP_REFRESH_TOKEN: not written to .env")
    assert "r1" not in str(caught.value)
    assert path.read_text() == "OTHER=1\n"


# --- L5: secrets need not be on the command line -----------------------------------------------


def exchange_args(emu, tmp_path, *extra):
    return [
        "exchange",
        "--app-key",
        emu.config.app_key,
        *hosts(emu),
        "--write-config",
        str(tmp_path / "config.json"),
        *extra,
    ]


def test_the_app_secret_from_a_file_and_the_code_from_stdin(emulator, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(emulator.config.app_secret + "\n")
    code = emulator.issue_auth_code()
    done = run(
        emulator,
        *exchange_args(emulator, tmp_path, "--app-secret-file", str(secret_file), "--code", "-"),
        input_text=code + "\n",
    )
    assert done.exit_code == 0, done.stderr
    assert "Authorized shops (2)" in done.stdout


def test_the_code_and_the_redirect_url_from_the_environment(emulator, tmp_path):
    code = emulator.issue_auth_code()
    done = run(
        emulator,
        *exchange_args(emulator, tmp_path),
        env={**secret_env(emulator), "TAP_TIKTOK_SHOP_AUTH_CODE": code},
    )
    assert done.exit_code == 0, done.stderr
    url = f"http://127.0.0.1/cb?code={emulator.issue_auth_code()}&state=s9"
    done = run(
        emulator,
        *exchange_args(emulator, tmp_path, "--expect-state", "s9"),
        env={**secret_env(emulator), "TAP_TIKTOK_SHOP_AUTH_REDIRECT_URL": url},
    )
    assert done.exit_code == 0, done.stderr


def test_the_help_says_who_can_see_secret_flags(emulator):
    for command, flags in (
        ("exchange", ("--app-secret", "--code", "--redirect-url")),
        ("login", ("--app-secret",)),
        ("refresh", ("--app-secret",)),
    ):
        params = {param.opts[0]: param for param in cli.commands[command].params}
        for flag in flags:
            assert "visible to other users" in (getattr(params[flag], "help", "") or ""), flag
        assert "--app-secret-file" in params
        assert "--app-secret-file" in run(emulator, command, "--help").stdout


def test_the_app_secret_file_is_one_line_when_unreadable_or_both_are_given(emulator, tmp_path):
    done = run(
        emulator,
        *exchange_args(
            emulator, tmp_path, "--code", "c", "--app-secret-file", str(tmp_path / "absent")
        ),
    )
    assert done.exit_code == 1
    assert "--app-secret-file: cannot read" in done.error()
    done = run(
        emulator,
        *exchange_args(
            emulator,
            tmp_path,
            "--code",
            "c",
            "--app-secret",
            "x",
            "--app-secret-file",
            str(tmp_path / "absent"),
        ),
    )
    assert done.exit_code == 2
    assert "either --app-secret or --app-secret-file" in done.error()


# --- I2: the emulator --------------------------------------------------------------------------


def test_the_emulator_warns_off_loopback_and_says_it_is_for_tests():
    assert exposure_warning("127.0.0.1") is None
    assert exposure_warning("localhost") is None
    assert "for tests only" in (exposure_warning("0.0.0.0") or "")
    done = subprocess.run(
        [sys.executable, "-m", "tiktok_shop_emulator", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "for tests and demos only" in " ".join(done.stdout.split())


# --- L7: dependency floors and the lock file ---------------------------------------------------


def _floor(requirement: str) -> tuple[int, ...]:
    found = re.search(r">=\s*([\d.]+)", requirement)
    assert found, requirement
    return tuple(int(part) for part in found[1].split("."))


def test_dependency_floors_and_a_lock_file_that_setup_installs_from():
    pyproject = (REPO / "pyproject.toml").read_text()
    wanted = dict(re.findall(r'^\s*"([a-z-]+)(>=[^"]+)",', pyproject, flags=re.MULTILINE))
    assert _floor(wanted["requests"]) >= (2, 32, 4)
    assert _floor(wanted["python-dotenv"]) >= (1, 2, 3)
    lock = (REPO / "requirements-lock.txt").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", lock, flags=re.MULTILINE))
    for name in ("requests", "python-dotenv", "singer-sdk", "meltano"):
        assert name in pins, name
        assert version(name) == pins[name], f"{name} is not installed at its locked version"
    makefile = (REPO / "Makefile").read_text()
    rule = makefile.split("$(BIN)/.installed:", 1)[1].split("\n\n", 1)[0]
    assert "-r $(LOCK)" in rule
    assert "LOCK = requirements-lock.txt" in makefile
    assert re.search(r"^lock:", makefile, flags=re.MULTILINE)
