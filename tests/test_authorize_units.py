"""The authorization helper's parts: consent URL, redirect parsing, sources, private files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from dotenv import dotenv_values

from tap_tiktok_shop.authorize import report
from tap_tiktok_shop.authorize.consent import (
    ConsentError,
    Redirect,
    authorization_url,
    check_state,
    loopback_target,
    parse_redirect,
)
from tap_tiktok_shop.authorize.outputs import Destinations, write_config, write_env
from tap_tiktok_shop.authorize.sources import gather
from tap_tiktok_shop.errors import ConfigurationError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- consent URL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("US", "https://services.us.tiktokshop.com/open/authorize?"),
        ("us", "https://services.us.tiktokshop.com/open/authorize?"),
        ("GB", "https://services.tiktokshop.com/open/authorize?"),
        ("ID", "https://services.tiktokshop.com/open/authorize?"),
    ],
)
def test_authorization_url_uses_the_regions_host(region, host):
    url = authorization_url(service_id="7001", state="s1", region=region)
    assert url == host + "service_id=7001&state=s1"


def test_authorization_url_accepts_a_link_copied_from_partner_center():
    link = "https://services.tiktokshops.us/open/authorize?service_id=9123"
    url = authorization_url(service_id=None, state="xyz", region=None, base_url=link)
    assert url == "https://services.tiktokshops.us/open/authorize?service_id=9123&state=xyz"
    emulator = authorization_url(
        service_id="1", state="s", region=None, base_url="http://127.0.0.1:9/"
    )
    assert emulator == "http://127.0.0.1:9/open/authorize?service_id=1&state=s"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"service_id": "1", "region": None}, "--region"),
        ({"service_id": "1", "region": "USA"}, "--region"),
        ({"service_id": " ", "region": "US"}, "--service-id"),
        ({"service_id": "1", "region": None, "base_url": "ftp://x"}, "--authorize-base-url"),
    ],
)
def test_authorization_url_names_the_bad_option(kwargs, fragment):
    with pytest.raises(ConsentError, match=fragment):
        authorization_url(state="s", **kwargs)


# --- redirect parsing and state ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "https://example.com/cb?code=TTP_abc&state=s1",
        "  https://example.com/cb?state=s1&code=TTP_abc\n",
        "?code=TTP_abc&state=s1",
        "code=TTP_abc&state=s1",
    ],
)
def test_parse_redirect_reads_code_and_state(text):
    assert parse_redirect(text) == Redirect(code="TTP_abc", state="s1")


def test_a_bare_code_has_no_state_to_check():
    redirect = parse_redirect("TTP_abc\n")
    assert redirect == Redirect(code="TTP_abc", state=None, from_url=False)
    check_state(redirect, "anything")  # nothing to compare


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "no redirect URL or code"),
        ("https://example.com/cb?code=null&error=auth_denied&state=s1", "error=auth_denied"),
        ("https://example.com/cb?state=s1", "has no code"),
        ("https://example.com/cb?code=&state=s1", "has no code"),
        ("https://example.com/cb?code=null&state=s1", "has no code"),
    ],
)
def test_parse_redirect_rejects(text, fragment):
    with pytest.raises(ConsentError, match=fragment):
        parse_redirect(text)


def test_an_error_value_from_the_redirect_is_not_echoed_raw():
    with pytest.raises(ConsentError) as caught:
        parse_redirect("https://x/cb?error=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<" not in str(caught.value)
    assert "error=scriptalert1script" in str(caught.value)


def test_check_state_rejects_missing_or_other_state():
    check_state(Redirect("c", "good"), "good")
    for state in ("bad", None, ""):
        with pytest.raises(ConsentError, match="state mismatch"):
            check_state(Redirect("c", state), "good")


@pytest.mark.parametrize(
    ("uri", "target"),
    [
        ("http://127.0.0.1:8976/callback", ("127.0.0.1", 8976, "/callback")),
        ("http://localhost:9000/a/b?x=1", ("127.0.0.1", 9000, "/a/b")),
        ("http://LOCALHOST/", ("127.0.0.1", 80, "/")),
        ("https://127.0.0.1:8976/callback", None),
        ("http://example.com:8976/callback", None),
        (None, None),
    ],
)
def test_loopback_target(uri, target):
    assert loopback_target(uri) == target


# --- sources -------------------------------------------------------------------------------------


def test_sources_precedence_option_then_config_then_env_file_then_environment(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"app_key": "from-config", "app_secret": "s-config", "start_date": "2025-01-01"})
    )
    env_file = tmp_path / ".env"
    env_file.write_text(
        "TAP_TIKTOK_SHOP_APP_SECRET='s-env-file'\nTAP_TIKTOK_SHOP_REFRESH_TOKEN=r-env-file\n"
    )
    environ = {
        "TAP_TIKTOK_SHOP_REFRESH_TOKEN": "r-environ",
        "TAP_TIKTOK_SHOP_ACCESS_TOKEN": "a1",
        "TAP_TIKTOK_SHOP_AUTH_BASE_URL": "http://127.0.0.1:1",
    }
    settings = gather(
        {"app_key": "from-option", "app_secret": None},
        config_path=config,
        env_file=env_file,
        environ=environ,
    )
    assert settings.values == {
        "app_key": "from-option",
        "app_secret": "s-config",
        "refresh_token": "r-env-file",
        "access_token": "a1",
        "auth_base_url": "http://127.0.0.1:1",
        "api_base_url": "https://open-api.tiktokglobalshop.com",
    }


def test_sources_errors_name_the_setting_or_file(tmp_path):
    with pytest.raises(ConfigurationError, match="auth_base_url: must be an https:// URL"):
        gather(
            {"auth_base_url": "auth.tiktok-shops.com"}, config_path=None, env_file=None, environ={}
        )
    with pytest.raises(ConfigurationError, match=r"missing\.json: cannot read"):
        gather({}, config_path=tmp_path / "missing.json", env_file=None, environ={})
    with pytest.raises(ConfigurationError, match=r"\.env: no such file"):
        gather({}, config_path=None, env_file=tmp_path / ".env", environ={})
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(ConfigurationError, match=r"list\.json: not a JSON object"):
        gather({}, config_path=tmp_path / "list.json", env_file=None, environ={})
    settings = gather({}, config_path=None, env_file=None, environ={})
    with pytest.raises(ConfigurationError, match=r"refresh_token: not set .*REFRESH_TOKEN"):
        settings.require("refresh_token")


# --- private files -------------------------------------------------------------------------------

SETTINGS = {"app_key": "k1", "app_secret": "s1", "refresh_token": "r1", "shop_ids": ["7", "8"]}


def test_write_config_creates_a_private_file(tmp_path):
    path = tmp_path / "config.json"
    write_config(path, SETTINGS)
    assert json.loads(path.read_text()) == SETTINGS
    assert mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temporary file left


def test_write_config_merges_and_narrows_an_existing_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps({"start_date": "2025-01-01", "app_secret": "old", "nested": {"a": [1, 2]}})
    )
    path.chmod(0o644)
    write_config(path, {"app_secret": "new", "refresh_token": "r1"})
    assert json.loads(path.read_text()) == {
        "start_date": "2025-01-01",
        "app_secret": "new",
        "nested": {"a": [1, 2]},
        "refresh_token": "r1",
    }
    assert mode(path) == 0o600


def test_write_config_leaves_a_file_that_is_not_a_json_object_alone(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("not json")
    with pytest.raises(ConfigurationError, match="not a JSON object"):
        write_config(path, SETTINGS)
    assert path.read_text() == "not json"


ENV_BEFORE = (
    "# Meltano project secrets\n"
    "\n"
    "TARGET_POSTGRES_PASSWORD='pw'\n"
    "TAP_TIKTOK_SHOP_REFRESH_TOKEN=old-token\n"
    "export OTHER=1\n"
    "this line is not valid dotenv\n"
    "TAP_TIKTOK_SHOP_START_DATE=2025-01-01"
)


def test_write_env_sets_only_its_keys_and_keeps_every_other_line(tmp_path):
    path = tmp_path / ".env"
    path.write_text(ENV_BEFORE)
    path.chmod(0o644)
    write_env(path, {**SETTINGS, "app_secret": "a+secret/with=signs~"})
    lines = path.read_text().splitlines()
    assert lines[:3] == ["# Meltano project secrets", "", "TARGET_POSTGRES_PASSWORD='pw'"]
    assert lines[3] == "TAP_TIKTOK_SHOP_REFRESH_TOKEN='r1'"  # replaced in place
    assert lines[4:7] == [
        "export OTHER=1",
        "this line is not valid dotenv",
        "TAP_TIKTOK_SHOP_START_DATE=2025-01-01",
    ]
    values = dotenv_values(path)
    assert values["TAP_TIKTOK_SHOP_APP_KEY"] == "k1"
    assert values["TAP_TIKTOK_SHOP_APP_SECRET"] == "a+secret/with=signs~"
    assert json.loads(values["TAP_TIKTOK_SHOP_SHOP_IDS"] or "") == ["7", "8"]
    assert values["TAP_TIKTOK_SHOP_START_DATE"] == "2025-01-01"
    assert mode(path) == 0o600


def test_write_env_creates_a_private_file(tmp_path):
    path = tmp_path / ".env"
    old_umask = os.umask(0o022)
    try:
        write_env(path, {"refresh_token": "r1"})
    finally:
        os.umask(old_umask)
    assert path.read_text() == "TAP_TIKTOK_SHOP_REFRESH_TOKEN='r1'\n"
    assert mode(path) == 0o600


def test_destinations_are_checked_before_anything_is_obtained(tmp_path):
    with pytest.raises(ConfigurationError, match="directory does not exist"):
        Destinations(config=tmp_path / "no" / "config.json", env=None).check()
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ConfigurationError, match="not a JSON object"):
        Destinations(config=bad, env=None).check()
    Destinations(config=tmp_path / "new.json", env=tmp_path / ".env").check()


# --- report --------------------------------------------------------------------------------------


def test_expiry_text():
    now = 1_700_000_000
    assert report.expiry_text(now + 7 * 86400 - 5, now) == "2023-11-21 22:13 UTC (in 7 days)"
    assert report.expiry_text(now + 5 * 3600, now).endswith("(in 5 hours)")
    assert report.expiry_text(now - 1, now).endswith("(expired)")
    assert report.expiry_text(None, now) == "at an unknown time"
    assert report.expiry(now) == "2023-11-14T22:13:20Z"


def test_shops_table_aligns_columns():
    shops = [{"id": "1", "name": "A shop", "region": "US"}, {"id": "22", "name": "B"}]
    assert report.shops_table(shops, ("id", "name", "region")).splitlines() == [
        "ID  NAME    REGION",
        "1   A shop  US",
        "22  B",
    ]
