"""Checks shared by the fault matrix: what a run emitted, and whether its STATE is safe."""

from __future__ import annotations

import typing as t

from tests.support.tap_runs import tap_config
from tiktok_shop_emulator import Emulator

if t.TYPE_CHECKING:
    from tests.support.tap_runs import TapRun

OrderKey = tuple[str, str]  # (shop_id, order id)


def all_orders(emu: Emulator, shop_ids: t.Iterable[str] | None = None) -> set[OrderKey]:
    """Every order the emulator holds now (of the given shops, or of all authorized ones)."""
    shops = list(shop_ids) if shop_ids is not None else [s["id"] for s in emu.shops()]
    return {(shop, row["id"]) for shop in shops for row in emu.orders_for_shop(shop)}


def emitted(run: TapRun) -> set[OrderKey]:
    """The (shop_id, id) of every order record the run emitted."""
    return {(order["shop_id"], order["id"]) for order in run.records("orders")}


def bookmarks(state: dict[str, t.Any]) -> dict[str, int]:
    """Shop id -> bookmark (only shops that have one)."""
    partitions = state.get("bookmarks", {}).get("orders", {}).get("partitions", [])
    return {
        p["context"]["shop_id"]: p["replication_key_value"]
        for p in partitions
        if p.get("replication_key_value") is not None
    }


def assert_state_never_ahead(
    run: TapRun,
    emu: Emulator,
    *,
    emitted_before: set[OrderKey] | None = None,
) -> int:
    """No STATE of the run points past an order that was not emitted.

    For every STATE message and every shop bookmark ``b`` in it: each order of that shop whose
    current ``update_time`` is below ``b`` must already have been emitted, earlier in this run
    or in a run before it. (Resuming reads ``update_time >= b - lookback``, so an order below
    ``b`` that was never emitted would be lost.) Returns how many bookmarks were checked.
    """
    seen: set[OrderKey] = set(emitted_before or ())
    current = {shop["id"]: emu.orders_for_shop(shop["id"]) for shop in emu.shops()}
    checked = 0
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == "orders":
            seen.add((message["record"]["shop_id"], message["record"]["id"]))
        elif message["type"] == "STATE":
            for shop, bookmark in bookmarks(message["value"]).items():
                missing = [
                    row["id"]
                    for row in current.get(shop, [])
                    if row["update_time"] < bookmark and (shop, row["id"]) not in seen
                ]
                assert not missing, f"STATE points past unemitted orders of {shop}: {missing[:5]}"
                checked += 1
    return checked


def assert_one_error_line(run: TapRun, *needles: str) -> str:
    """The run failed with exactly one ERROR line, holding every needle, and no traceback."""
    assert run.returncode != 0, "the run should have failed"
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    errors = run.error_lines()
    assert len(errors) == 1, "\n".join(errors) or run.stderr[-3000:]
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def shop_warnings(run: TapRun, shop_id: str, stream: str = "orders") -> list[str]:
    """The WARNING lines that ended ``shop_id``'s read of ``stream``."""
    head = f"Shop {shop_id}: stopped reading stream '{stream}'"
    return [line for line in run.stderr.splitlines() if "WARNING" in line and head in line]


def assert_shop_failed(
    run: TapRun, shop_id: str, *needles: str, stream: str = "orders", exit_code: int = 1
) -> str:
    """``shop_id``'s read of ``stream`` ended with one WARNING line holding every needle, and
    the run ended with the summary naming the shop (one ERROR line when it exits non-zero).

    Returns the WARNING line.
    """
    assert run.returncode == exit_code, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    warnings = shop_warnings(run, shop_id, stream)
    assert len(warnings) == 1, warnings or run.stderr[-3000:]
    for needle in needles:
        assert needle in warnings[0], warnings[0]
    assert "bookmark stays where it was" in warnings[0]
    summary = [line for line in run.stderr.splitlines() if "could not be synced completely" in line]
    assert len(summary) == 1, summary
    assert shop_id in summary[0]
    if exit_code:
        assert_one_error_line(run, "could not be synced completely", shop_id)
    else:
        assert run.error_lines() == [], run.error_lines()
    return warnings[0]


def config_for(emu: Emulator, **overrides: t.Any) -> dict[str, t.Any]:
    """Settings with one reader: injected faults that count requests meet them in a fixed order
    (2 shops x 3 pages of 20 with the fault tests' emulator; the parallel path has its own tests).
    """
    return tap_config(emu, page_size=20, parallel_reads=1, **overrides)
