"""`exchange`, `refresh`, `shops` and `url` of tap-tiktok-shop-auth, end to end on the emulator."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from importlib.metadata import entry_points

import pytest
from click.testing import CliRunner
from dotenv import dotenv_values

from tap_tiktok_shop.authorize.cli import cli
from tests.conftest import REPO, assert_no_secrets, catalog_selecting
from tiktok_shop_emulator import Emulator


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    def error(self) -> str:
        """The one error line, checked to be alone and without a traceback."""
        assert "Traceback" not in self.stderr
        errors = [line for line in self.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, self.stderr
        return errors[0]


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TAP_TIKTOK_SHOP_"):
            monkeypatch.delenv(name)


def run(
    emu: Emulator,
    *args: str,
    env: dict[str, str] | None = None,
    extra_secrets: t.Sequence[str] = (),
    input_text: str | None = None,
) -> Outcome:
    """Run the helper in-process (``input_text`` on stdin); no secret may reach its output."""
    result = CliRunner().invoke(
        cli, list(args), env=env, prog_name="tap-tiktok-shop-auth", input=input_text
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    outcome = Outcome(result.exit_code, result.stdout, result.stderr)
    assert_no_secrets(outcome.stdout + outcome.stderr, [*emu.issued_secrets(), *extra_secrets])
    return outcome


def hosts(emu: Emulator) -> list[str]:
    return ["--auth-base-url", emu.base_url, "--api-base-url", emu.base_url]


def app(emu: Emulator) -> list[str]:
    return ["--app-key", emu.config.app_key, *hosts(emu)]


def secret_env(emu: Emulator) -> dict[str, str]:
    return {"TAP_TIKTOK_SHOP_APP_SECRET": emu.config.app_secret}


def authorized_ids(emu: Emulator) -> list[str]:
    return [shop["id"] for shop in emu.shops() if shop["authorized"]]


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- exchange ------------------------------------------------------------------------------------


def test_exchange_writes_a_private_env_and_reports_without_secrets(emulator, tmp_path):
    env_file = tmp_path / ".env"
    done = run(
        emulator,
        "exchange",
        "--code",
        emulator.issue_auth_code(),
        *app(emulator),
        "--write-env",
        str(env_file),
        "--format",
        "json",
        env=secret_env(emulator),
    )
    assert done.exit_code == 0, done.stderr
    facts = json.loads(done.stdout)
    assert [shop["id"] for shop in facts["shops"]] == authorized_ids(emulator)
    assert set(facts["shops"][0]) == {"id", "name", "region", "seller_type", "cipher"}
    assert facts["seller_name"] == "Demo Seller"
    assert facts["shop_ids"] is None
    assert facts["saved"] == [str(env_file)]
    assert "access_token" not in facts
    assert "refresh_token" not in facts
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert dotenv_values(env_file) == {
        "TAP_TIKTOK_SHOP_APP_KEY": emulator.config.app_key,
        "TAP_TIKTOK_SHOP_APP_SECRET": emulator.config.app_secret,
        "TAP_TIKTOK_SHOP_REFRESH_TOKEN": emulator.tokens.current_refresh_token(),
    }


def test_the_written_env_file_configures_the_tap(emulator, tmp_path):
    env_file = tmp_path / ".env"
    first = authorized_ids(emulator)[1]
    done = run(
        emulator,
        "exchange",
        "--code",
        emulator.issue_auth_code(),
        "--shop-id",
        first,
        *app(emulator),
        "--write-env",
        str(env_file),
        env=secret_env(emulator),
    )
    assert done.exit_code == 0, done.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_TIKTOK_SHOP_")}
    env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    env.update(
        TAP_TIKTOK_SHOP_API_BASE_URL=emulator.base_url,
        TAP_TIKTOK_SHOP_AUTH_BASE_URL=emulator.base_url,
    )
    # Shops and orders: the analytics streams would read 90 days at 1 request/s per shop (the
    # SDK parses no number setting from the environment, so their pace cannot be set here).
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_selecting(["shops", "orders"])))
    tap = subprocess.run(
        [sys.executable, "-m", "tap_tiktok_shop", "--config", "ENV", "--catalog", str(catalog)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert tap.returncode == 0, tap.stderr
    assert_no_secrets(tap.stdout + tap.stderr, emulator.issued_secrets())
    records = [json.loads(line) for line in tap.stdout.splitlines()]
    shops = [m["record"]["id"] for m in records if m.get("stream") == "shops" and "record" in m]
    assert shops == [first]


def test_show_secrets_prints_the_tokens(emulator):
    result = CliRunner().invoke(
        cli,
        ["exchange", "--code", emulator.issue_auth_code(), *app(emulator), "--show-secrets"],
        env=secret_env(emulator),
    )
    assert result.exit_code == 0, result.stderr
    assert f"refresh_token: {emulator.config.refresh_token}" in result.stdout
    assert "access_token: ROW_" in result.stdout


def test_exchange_narrows_shops_and_checks_the_redirect_state(emulator, tmp_path):
    config = tmp_path / "config.json"
    first = authorized_ids(emulator)[0]
    redirect = f"http://127.0.0.1:1/cb?code={emulator.issue_auth_code()}&state=st8"
    done = run(
        emulator,
        "exchange",
        "--redirect-url",
        redirect,
        "--expect-state",
        "st8",
        "--shop-id",
        first,
        *app(emulator),
        "--write-config",
        str(config),
        env=secret_env(emulator),
    )
    assert done.exit_code == 0, done.stderr
    assert f"The tap will sync only: {first}" in done.stdout
    assert json.loads(config.read_text())["shop_ids"] == [first]

    forged = f"http://127.0.0.1:1/cb?code={emulator.issue_auth_code()}&state=other"
    done = run(
        emulator,
        "exchange",
        "--redirect-url",
        forged,
        "--expect-state",
        "st8",
        *app(emulator),
        "--show-secrets",
        env=secret_env(emulator),
    )
    assert done.exit_code == 1
    assert "state mismatch" in done.error()


def test_exchange_with_an_unknown_shop_id_keeps_the_tokens_and_fails(emulator, tmp_path):
    config = tmp_path / "config.json"
    done = run(
        emulator,
        "exchange",
        "--code",
        emulator.issue_auth_code(),
        "--shop-id",
        "123",
        *app(emulator),
        "--write-config",
        str(config),
        env=secret_env(emulator),
    )
    assert done.exit_code == 1
    assert "shop_ids: 123 not among the shops" in done.error()
    assert "saved the other settings without shop_ids" in done.error()
    saved = json.loads(config.read_text())
    assert saved["refresh_token"] == emulator.config.refresh_token
    assert "shop_ids" not in saved


def test_an_authorization_without_the_orders_scope_is_flagged(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=1, granted_scopes=["seller.authorization.info"])
    done = run(
        emu,
        "exchange",
        "--code",
        emu.issue_auth_code(),
        *app(emu),
        "--write-env",
        str(tmp_path / ".env"),
        env=secret_env(emu),
    )
    assert done.exit_code == 0, done.stderr
    assert "does not grant seller.order.info" in done.stderr


def test_a_reused_or_expired_code_is_one_error_line(emulator, tmp_path):
    code = emulator.issue_auth_code()
    args = ["exchange", "--code", code, *app(emulator), "--write-env", str(tmp_path / ".env")]
    assert run(emulator, *args, env=secret_env(emulator)).exit_code == 0
    reused = run(emulator, *args, env=secret_env(emulator))
    assert reused.exit_code == 1
    assert "API code 36004005" in reused.error()
    assert "authorize again" in reused.error()

    stale = emulator.issue_auth_code()
    emulator.config.clock_offset_seconds = emulator.config.auth_code_lifetime + 1
    expired = run(
        emulator,
        "exchange",
        "--code",
        stale,
        *app(emulator),
        "--show-secrets",
        env=secret_env(emulator),
    )
    assert expired.exit_code == 1
    assert "36004005" in expired.error()


def test_a_wrong_app_secret_is_one_error_line(emulator):
    done = run(
        emulator,
        "exchange",
        "--code",
        emulator.issue_auth_code(),
        *app(emulator),
        "--show-secrets",
        env={"TAP_TIKTOK_SHOP_APP_SECRET": "wrong-secret-value"},
        extra_secrets=["wrong-secret-value"],
    )
    assert done.exit_code == 1
    assert "Invalid app_key or app_secret" in done.error()


def test_a_refused_connection_is_one_error_line(emulator):
    done = run(
        emulator,
        "exchange",
        "--code",
        emulator.issue_auth_code(),
        "--app-key",
        "k",
        "--auth-base-url",
        closed_port_url(),
        "--show-secrets",
        env=secret_env(emulator),
    )
    assert done.exit_code == 1
    assert "Exchanging the authorization code failed: ConnectionError" in done.error()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--code", "c", "--redirect-url", "http://x/?code=c"], "either --code or --redirect-url"),
        ([], "either --code or --redirect-url"),
        (["--code", "c", "--expect-state", "s", "--show-secrets"], "--expect-state needs"),
        (["--code", "c"], "nothing would keep the tokens"),
        (["--code", "c", "--format", "yaml", "--show-secrets"], "'yaml' is not one of"),
    ],
)
def test_bad_command_lines_are_one_error_line_with_exit_code_2(emulator, args, fragment):
    done = run(emulator, "exchange", *args, *app(emulator), env=secret_env(emulator))
    assert done.exit_code == 2
    assert fragment in done.error()
    assert "Usage:" not in done.stderr


def test_missing_credentials_are_named(emulator):
    done = run(emulator, "exchange", "--code", "c", "--show-secrets", *hosts(emulator))
    assert done.exit_code == 1
    assert "app_key: not set" in done.error()


# --- refresh -------------------------------------------------------------------------------------


def test_refresh_prints_expiries_and_reads_a_meltano_env_file(emulator, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TAP_TIKTOK_SHOP_APP_KEY={emulator.config.app_key}\n"
        f"TAP_TIKTOK_SHOP_APP_SECRET={emulator.config.app_secret}\n"
        f"TAP_TIKTOK_SHOP_REFRESH_TOKEN={emulator.config.refresh_token}\n"
    )
    done = run(
        emulator,
        "refresh",
        "--env-file",
        str(env_file),
        *hosts(emulator),
        "--write-env",
        str(env_file),
    )
    assert done.exit_code == 0, done.stderr
    assert "Access token expires " in done.stdout
    assert "(in 7 days)" in done.stdout
    assert "Refresh token expires " in done.stdout
    assert "(in 365 days)" in done.stdout
    assert "The refresh token is unchanged." in done.stdout
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_refresh_stores_a_rotated_refresh_token(emulator_factory, tmp_path):
    emu = emulator_factory(shops=1, orders_per_shop=1, rotate_refresh_token=True)
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "app_key": emu.config.app_key,
                "app_secret": emu.config.app_secret,
                "refresh_token": emu.config.refresh_token,
                "api_base_url": emu.base_url,
                "auth_base_url": emu.base_url,
                "start_date": "2025-01-01",
            }
        )
    )
    done = run(
        emu, "refresh", "--config", str(config), "--write-config", str(config), "--format", "json"
    )
    assert done.exit_code == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["refresh_token_rotated"] is True
    saved = json.loads(config.read_text())
    assert saved["refresh_token"] == emu.tokens.current_refresh_token() != emu.config.refresh_token
    assert saved["start_date"] == "2025-01-01"
    # The old token no longer works; the stored one does.
    listed = run(emu, "shops", "--config", str(config), "--format", "json")
    assert listed.exit_code == 0, listed.stderr
    assert "new refresh token" in listed.stderr  # rotated again, and said so


def test_refresh_with_a_revoked_authorization_says_to_authorize_again(emulator, tmp_path):
    emulator.revoke_refresh_token()
    done = run(
        emulator,
        "refresh",
        *app(emulator),
        "--show-secrets",
        env={
            **secret_env(emulator),
            "TAP_TIKTOK_SHOP_REFRESH_TOKEN": emulator.config.refresh_token,
        },
    )
    assert done.exit_code == 1
    assert "API code 36004001" in done.error()
    assert "tap-tiktok-shop-auth login" in done.error()


# --- shops ---------------------------------------------------------------------------------------


def test_shops_as_a_table_and_as_json(emulator):
    emulator.deauthorize_shop(emulator.shops()[1]["id"])
    env = {**secret_env(emulator), "TAP_TIKTOK_SHOP_REFRESH_TOKEN": emulator.config.refresh_token}
    table = run(emulator, "shops", *app(emulator), env=env)
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "REGION", "SELLER", "TYPE", "CIPHER"]
    shop = emulator.shops()[0]
    assert lines[1].split() == [
        shop["id"],
        *shop["name"].split(),
        shop["region"],
        shop["seller_type"],
        shop["cipher"],
    ]
    assert len(lines) == 2  # the de-authorized shop is not listed

    as_json = run(emulator, "shops", *app(emulator), "--format", "json", env=env)
    assert json.loads(as_json.stdout) == {
        "shops": [{key: shop[key] for key in ("id", "name", "region", "seller_type", "cipher")}]
    }


def test_shops_refreshes_an_expired_access_token_once(emulator):
    access = emulator.issue_access_token()
    emulator.expire_access_tokens()
    done = run(
        emulator,
        "shops",
        *app(emulator),
        "--format",
        "json",
        env={
            **secret_env(emulator),
            "TAP_TIKTOK_SHOP_ACCESS_TOKEN": access,
            "TAP_TIKTOK_SHOP_REFRESH_TOKEN": emulator.config.refresh_token,
        },
    )
    assert done.exit_code == 0, done.stderr
    assert len(json.loads(done.stdout)["shops"]) == 2
    assert emulator.stats.count("/api/v2/token/refresh") == 1
    assert [record.code for record in emulator.stats.records("/authorization/202309/shops")] == [
        105002,
        0,
    ]


def test_shops_names_a_missing_refresh_token(emulator):
    done = run(emulator, "shops", *app(emulator), env=secret_env(emulator))
    assert done.exit_code == 1
    assert "refresh_token: not set" in done.error()


# --- url and the installed command -------------------------------------------------------------


def test_url_and_the_module_entry_point(tmp_path):
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("TAP_TIKTOK_SHOP_")
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tap_tiktok_shop.authorize",
            "url",
            "--service-id",
            "7001",
            "--region",
            "US",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith("https://services.us.tiktokshop.com/open/authorize?service_id=7001&")
    state = link.split("state=")[1]
    assert len(state) >= 24
    assert f"state: {state}" in done.stderr
    again = CliRunner().invoke(cli, ["url", "--service-id", "7001", "--region", "GB"])
    assert again.stdout.startswith("https://services.tiktokshop.com/open/authorize?")
    assert again.stdout.split("state=")[1].strip() != state  # a new random state each time


def test_the_console_script_is_declared_and_installed():
    (script,) = entry_points(group="console_scripts", name="tap-tiktok-shop-auth")
    assert script.load() is cli
