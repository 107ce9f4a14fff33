"""The fault matrix, rows 7 and 8 (issue 5): bad input, and secrets that must never show.

Row 7: every bad setting or input file ends in exactly one ERROR line naming it, exit code 1,
no traceback and no Singer message. Settings are checked in-process (the same code path as the
CLI after argument parsing); input files are read by click's option callbacks, so those rows
run the real command line.

Row 8: every test's output is already scanned for secrets by the autouse fixture in conftest
and by both runners; these rows add the places secrets are most likely to slip out: the token
calls' URLs (which hold them) in DEBUG logs, and errors of the token host.
"""

from __future__ import annotations

import logging
import socket
import typing as t

import pytest

from tap_tiktok_shop.tokens import URL_LOGGER, mask_secrets_in_url_logs
from tests.support.faultkit import assert_one_error_line, bookmarks
from tests.support.tap_runs import assert_no_secret_captured, run_in_process, run_tap, tap_config
from tiktok_shop_emulator import Emulator


@pytest.fixture
def emu(emulator_factory: t.Callable[..., Emulator]) -> Emulator:
    return emulator_factory(shops=2, orders_per_shop=30)


# --- row 7: bad settings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"app_key": None}, "app_key"),  # missing
        ({"app_secret": None}, "app_secret"),
        ({"refresh_token": None}, "refresh_token"),  # and no access_token either
        ({"page_size": "20"}, "page_size"),  # wrong types
        ({"shop_ids": "7491717171606571"}, "shop_ids"),
        ({"request_timeout": "fast"}, "request_timeout"),
        ({"lookback_minutes": 1.5}, "lookback_minutes"),
        ({"page_size": 0}, "page_size"),  # out of range
        ({"page_size": 101}, "page_size"),
        ({"lookback_minutes": -1}, "lookback_minutes"),
        ({"start_date": "yesterday"}, "start_date"),  # unparsable dates
        ({"end_date": "2025-13-45"}, "end_date"),
        ({"start_date": "2025-02-01", "end_date": "2025-01-01"}, "start_date"),
        ({"api_base_url": "ftp://example.com"}, "api_base_url"),
    ],
)
def test_bad_setting_is_one_line_naming_it(emu, overrides, setting):
    run = run_in_process(emu, tap_config(emu, **overrides))
    assert run.returncode == 1
    assert_one_error_line(run, setting)
    assert run.messages == []


def test_unknown_shop_ids_is_one_line_naming_the_shop(emu):
    run = run_in_process(emu, tap_config(emu, shop_ids=["123", emu.shops()[0]["id"]]))
    assert run.returncode == 1
    assert_one_error_line(run, "shop_ids", "123", "not among the shops")
    assert run.records("orders") == []
    assert bookmarks(run.last_state) == {}


def test_wrong_app_secret_is_one_line_without_the_secret(emu):
    config = tap_config(emu, app_secret="not-the-app-secret")
    run = run_in_process(emu, config)
    assert run.returncode == 1
    assert_one_error_line(run, "Invalid app_key or app_secret", "request_id")
    assert "not-the-app-secret" not in run.stderr


def test_bookmark_that_is_not_unix_seconds_is_one_line(emu):
    shop = emu.shops()[0]["id"]
    state = {
        "bookmarks": {
            "orders": {
                "partitions": [
                    {
                        "context": {"shop_id": shop},
                        "replication_key": "update_time",
                        "replication_key_value": "2025-01-01T00:00:00Z",
                    }
                ]
            }
        }
    }
    run = run_in_process(emu, tap_config(emu), state=state)
    assert run.returncode == 1
    assert_one_error_line(run, "state", shop, "unix seconds")
    assert run.records("orders") == []


# --- row 7: bad input files on the command line ------------------------------------------------


@pytest.mark.parametrize(
    ("write", "option"),
    [
        (lambda tmp: {"--config": tmp / "absent.json"}, "--config"),
        (lambda tmp: {"--config": _text(tmp / "c.json", '{"app_key": ')}, "--config"),
        (lambda tmp: {"--config": _text(tmp / "c.json", "[1]")}, "--config"),
        (lambda tmp: {"--state": _text(tmp / "s.json", "{bookmarks")}, "--state"),
        (lambda tmp: {"--state": _text(tmp / "s.json", "[]")}, "--state"),
        (lambda tmp: {"--state": tmp / "absent.json"}, "--state"),
        (lambda tmp: {"--catalog": _text(tmp / "k.json", "not json")}, "--catalog"),
    ],
    ids=[
        "config-absent",
        "config-not-json",
        "config-not-object",
        "state-not-json",
        "state-not-object",
        "state-absent",
        "catalog-not-json",
    ],
)
def test_bad_input_file_is_one_line_naming_the_option(emu, tmp_path, write, option):
    files = write(tmp_path)
    args = [part for flag, path in files.items() for part in (flag, str(path))]
    run = run_tap(tmp_path / "run", emu, tap_config(emu), args=args)
    assert run.returncode == 1
    assert_one_error_line(run, option)
    assert run.stdout == ""


def test_discover_with_bad_dates_is_one_line(emu, tmp_path):
    config = tap_config(emu, start_date="2025-02-01", end_date="2025-01-01")
    run = run_tap(tmp_path, emu, config, args=["--discover"])
    assert run.returncode == 1
    assert_one_error_line(run, "start_date")


def _text(path, content: str):
    path.write_text(content)
    return path


# --- row 8: secrets ----------------------------------------------------------------------------


def test_debug_logs_of_token_calls_mask_the_secrets(emu):
    run = run_in_process(emu, tap_config(emu))  # logs at DEBUG, urllib3's URL lines included
    assert run.returncode == 0
    token_lines = [line for line in run.stderr.splitlines() if "/api/v2/token/refresh" in line]
    assert token_lines, "urllib3 logged no token call: the check below would test nothing"
    for line in token_lines:
        assert "app_secret=***" in line
        assert "refresh_token=***" in line
    # the runner also asserted that no secret value appears in stdout or the logs


def test_the_scan_run_after_every_test_finds_secrets_wherever_they_hide(emu):
    token = emu.issue_access_token()
    assert_no_secret_captured("clean", "clean", [])
    with pytest.raises(AssertionError):
        assert_no_secret_captured(f"x{token}x", "", [])
    with pytest.raises(AssertionError):
        assert_no_secret_captured("", emu.config.app_secret, [])
    try:
        raise RuntimeError(token)
    except RuntimeError as exc:
        record = logging.LogRecord("tap", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = (type(exc), exc, exc.__traceback__)
    with pytest.raises(AssertionError):
        assert_no_secret_captured("", "", [record])


def test_url_filter_masks_every_secret_parameter(caplog):
    mask_secrets_in_url_logs()
    mask_secrets_in_url_logs()  # installing twice adds one filter
    url_logger = logging.getLogger(URL_LOGGER)
    assert len(url_logger.filters) == 1
    with caplog.at_level(logging.DEBUG, logger=URL_LOGGER):
        url_logger.debug(
            '"GET %s HTTP/1.1" 200',
            "/api/v2/token/get?app_key=k&app_secret=S3CRET-1&auth_code=C0DE-22&"
            "grant_type=authorized_code&refresh_token=R3FRESH-3&access_token=ACC3SS-4",
        )
    assert "app_key=k" in caplog.text
    for value in ("S3CRET-1", "C0DE-22", "R3FRESH-3", "ACC3SS-4"):
        assert value not in caplog.text


def test_unreachable_token_host_fails_in_one_line_without_secrets(emu, waits):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config = tap_config(emu, auth_base_url=f"http://127.0.0.1:{port}")
    run = run_in_process(emu, config)
    assert_one_error_line(run, "Refreshing the access token failed", "ConnectionError")
    assert len(waits) == 4  # the token call is retried too
    assert emu.config.app_secret not in run.stderr
