"""The run summary (issue 16): its figures equal what the run emitted, however the run ended."""

from __future__ import annotations

import json
import signal
import time
import typing as t
from collections import Counter

from tests.conftest import catalog_selecting, finish_tap, run_in_process, spawn_tap, tap_config
from tiktok_shop_emulator.config import DEFAULT_SCOPES

if t.TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import TapRun
    from tiktok_shop_emulator import Emulator

ORDERS = "/order/202309/orders/search"


def _records_per_stream(run: TapRun) -> dict[str, int]:
    return dict(Counter(m["stream"] for m in run.messages if m["type"] == "RECORD"))


def _summary_lines(run: TapRun) -> list[str]:
    return [line for line in run.stderr.splitlines() if "Run summary:" in line]


def test_the_summary_counts_what_was_emitted_requests_retries_and_429s(
    emulator_factory: t.Callable[..., Emulator], tmp_path: Path, waits: list[float]
):
    emu = emulator_factory(shops=2, orders_per_shop=150)
    emu.faults.add("rate_limit", count=2, path_prefix=ORDERS, skip=1)
    path = tmp_path / "summary.json"
    catalog = catalog_selecting(["shops", "orders", "products"])
    run = run_in_process(
        emu, tap_config(emu, page_size=50, run_summary_file=str(path)), catalog=catalog
    )
    assert run.returncode == 0, run.stderr[-2000:]
    facts = json.loads(path.read_text())
    assert facts["status"] == "succeeded"
    assert facts["reason"] is None
    shops = [shop["id"] for shop in emu.shops()]
    assert facts["shops"] == shops
    emitted = _records_per_stream(run)
    assert {name: figures["records"] for name, figures in facts["streams"].items()} == emitted
    orders = facts["streams"]["orders"]
    assert orders["shops_synced"] == shops
    assert not orders["shops_skipped"]
    assert orders["requests"] == emu.stats.count(ORDERS)  # every attempt, 429s included
    assert (orders["retries"], orders["throttled"]) == (2, 2)
    assert facts["streams"]["products"]["throttled"] == 0
    partitions = run.last_state["bookmarks"]["orders"]["partitions"]
    values = [partition["replication_key_value"] for partition in partitions]
    assert orders["bookmarks"]["earliest"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(values))
    )
    lines = _summary_lines(run)
    assert "Run summary: succeeded after" in lines[0]
    row = next(line for line in lines if "Run summary: orders" in line).split("summary:")[1]
    assert row.split()[:3] == ["orders", f"{emitted['orders']:,}", "2/0/0"]
    assert row.split()[-3:] == [str(emu.stats.count(ORDERS)), "2", "2"]
    assert "Run summary" not in run.stdout


def test_after_a_shop_failure_the_summary_names_it_and_the_failure_line_comes_last(
    emulator_factory: t.Callable[..., Emulator], tmp_path: Path
):
    emu = emulator_factory(shops=3, orders_per_shop=40)
    first, second, third = (shop["id"] for shop in emu.shops())
    emu.faults.add("deauthorize_shop", path_prefix="/order/", shop_id=second)
    path = tmp_path / "summary.json"
    run = run_in_process(emu, tap_config(emu, run_summary_file=str(path)))
    assert run.returncode == 1
    facts = json.loads(path.read_text())
    assert facts["status"] == "failed"
    assert "could not be synced completely" in facts["reason"]
    orders = facts["streams"]["orders"]
    assert orders["records"] == len(run.records("orders")) == 80
    assert orders["shops_synced"] == [first, third]
    assert list(orders["shops_failed"]) == [second]
    assert orders["shops_failed"][second].startswith("API code 101000: ")
    lines = run.stderr.splitlines()
    table_end = max(i for i, line in enumerate(lines) if "Run summary:" in line)
    failure = [i for i, line in enumerate(lines) if "could not be synced completely" in line]
    assert len(failure) == 1
    assert failure[0] > table_end
    assert "2/0/1" in next(line for line in lines if "Run summary: orders" in line)


def test_streams_skipped_for_a_missing_api_package_say_why(
    emulator_factory: t.Callable[..., Emulator], tmp_path: Path
):
    scopes = [scope for scope in DEFAULT_SCOPES if scope != "seller.finance.info"]
    emu = emulator_factory(shops=2, orders_per_shop=20, granted_scopes=scopes)
    path = tmp_path / "summary.json"
    run = run_in_process(
        emu,
        tap_config(emu, run_summary_file=str(path)),
        catalog=catalog_selecting(["shops", "orders", "payments"]),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    payments = json.loads(path.read_text())["streams"]["payments"]
    assert payments["records"] == 0
    assert payments["requests"] == 0
    assert set(payments["shops_skipped"].values()) == {
        "the app lacks the API package 'Finance Information' (scope seller.finance.info)"
    }
    assert any("payments: 2 shop(s) skipped: the app lacks" in line for line in _summary_lines(run))


def test_an_interrupted_run_still_reports_what_it_emitted(
    emulator_factory: t.Callable[..., Emulator], tmp_path: Path
):
    emu = emulator_factory(shops=2, orders_per_shop=60)
    emu.faults.add("slow", path_prefix="/order/", skip=2, seconds=120)  # holds page 3
    path = tmp_path / "summary.json"
    config = tap_config(emu, page_size=20, parallel_reads=1, run_summary_file=str(path))
    process = spawn_tap(tmp_path / "run", config, catalog=catalog_selecting(["shops", "orders"]))
    deadline = time.monotonic() + 30
    while not emu.faults.fired:
        assert process.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    run = finish_tap(process, emu, config, timeout=60)
    assert run.returncode == 143
    facts = json.loads(path.read_text())
    assert facts["status"] == "interrupted"
    assert facts["reason"] == "interrupted by SIGTERM"
    orders = facts["streams"]["orders"]
    assert orders["records"] == len(run.records("orders")) == 40
    assert set(orders["shops_skipped"].values()) == {"not read: the run stopped first"}
    lines = run.stderr.splitlines()
    table = max(i for i, line in enumerate(lines) if "Run summary:" in line)
    assert "Interrupted by SIGTERM" in lines[-1]
    assert table < len(lines) - 1
