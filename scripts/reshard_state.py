"""Carry every shop's bookmarks over to a new shard count (README: "Changing the shard count").

A shard's state id ends in ``shard-INDEX-of-COUNT``, so runs with a new count start from fresh
state ids, and a shop that moved to another shard would be read from ``start_date`` again.
This reads the state of every old shard (``meltano state get``), keeps each shop's bookmarks
(per stream, the partition whose context names the shop), and writes to each new shard the
bookmarks of exactly the shops it holds (``meltano state set --force``, from a file: the state
of hundreds of shops is too long for a command line). The old states are left as they are.
Run it between two runs, never while a shard is running::

    .venv/bin/python scripts/reshard_state.py --environment prod --from 3 --to 8
    .venv/bin/python scripts/reshard_state.py --environment prod --from unsharded --to 4
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

from tap_tiktok_shop.sharding import Shard, shard_of

REPO = Path(__file__).resolve().parent.parent
#: The state id of ``meltano run tap-tiktok-shop target-postgres`` (before the suffix).
DEFAULT_JOB = "tap-tiktok-shop-to-target-postgres"
State = dict[str, t.Any]


class ReshardError(Exception):
    """The bookmarks cannot be carried over; the message says why."""


def state_ids(environment: str, job: str, count: int | None) -> list[tuple[str, Shard | None]]:
    """The state ids of a layout: one per shard, or the single unsharded one (count None)."""
    base = f"{environment}:{job}"
    if count is None:
        return [(base, None)]
    return [
        (f"{base}:{shard.state_id_suffix}", shard)
        for shard in (Shard(index, count) for index in range(count))
    ]


def _shop_of(partition: object) -> str | None:
    context = partition.get("context") if isinstance(partition, dict) else None
    shop_id = context.get("shop_id") if isinstance(context, dict) else None
    return str(shop_id) if shop_id is not None else None


def _bookmark(partition: dict[str, t.Any]) -> tuple[int, float, str]:
    """A partition's bookmark, comparable: numbers as numbers, ISO strings as strings."""
    value = partition.get("replication_key_value")
    if isinstance(value, int | float):
        return (1, float(value), "")
    return (0 if value is None else 1, 0.0, str(value or ""))


def merge_states(states: list[State]) -> State:
    """One Singer state holding every shop's partitions of every stream.

    A shop found in several old states (it should not be) keeps the later bookmark.

    Raises:
        ReshardError: if a stream's partitions are not a list.
    """
    merged: State = {"bookmarks": {}}
    for state in states:
        for stream, bookmark in (state.get("bookmarks") or {}).items():
            target = merged["bookmarks"].setdefault(
                stream, {key: value for key, value in bookmark.items() if key != "partitions"}
            )
            if "partitions" not in bookmark:
                continue
            partitions = bookmark["partitions"]
            if not isinstance(partitions, list):
                msg = f"bookmarks.{stream}.partitions: not a list"
                raise ReshardError(msg)
            kept = target.setdefault("partitions", [])
            for partition in partitions:
                same = [p for p in kept if p.get("context") == partition.get("context")]
                if same and _bookmark(same[0]) >= _bookmark(partition):
                    continue
                for old in same:
                    kept.remove(old)
                kept.append(copy.deepcopy(partition))
    return merged


def state_of_shard(merged: State, shard: Shard | None) -> State:
    """The bookmarks of the shops a shard holds (every shop, for the unsharded layout)."""
    state: State = {"bookmarks": {}}
    for stream, bookmark in merged["bookmarks"].items():
        entry = {key: value for key, value in bookmark.items() if key != "partitions"}
        if "partitions" in bookmark:
            entry["partitions"] = [
                p
                for p in bookmark["partitions"]
                if shard is None
                or (
                    _shop_of(p) is not None
                    and shard_of(t.cast("str", _shop_of(p)), shard.count) == shard.index
                )
            ]
        state["bookmarks"][stream] = entry
    return state


class Meltano:
    """``meltano --environment=ENV state ...`` in the project directory."""

    def __init__(self, executable: str, environment: str) -> None:
        self.command = [executable, f"--environment={environment}", "state"]

    def _run(self, *args: str) -> str:
        done = subprocess.run(
            [*self.command, *args],
            cwd=REPO,
            capture_output=True,  # noqa: S603
            text=True,
            check=False,
            timeout=300,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            msg = f"meltano state {args[0]} {args[-1]} failed: {last}"
            raise ReshardError(msg)
        return done.stdout

    def known(self) -> set[str]:
        """Every state id of the project."""
        return {line.strip() for line in self._run("list").splitlines() if line.strip()}

    def get(self, state_id: str) -> State:
        """The Singer state of a state id."""
        try:
            found = json.loads(self._run("get", state_id))
        except ValueError as exc:
            msg = f"meltano state get {state_id}: not JSON ({exc})"
            raise ReshardError(msg) from None
        return t.cast("State", found.get("singer_state", {}))

    def set(self, state_id: str, state: State) -> None:
        """Replace the state of a state id."""
        with tempfile.TemporaryDirectory(prefix="reshard-") as tmp:
            path = Path(tmp) / "state.json"
            path.write_text(json.dumps({"singer_state": state}))
            self._run("set", "--force", "--input-file", str(path), state_id)


def layout(value: str) -> int | None:
    """``--from`` / ``--to``: a shard count, or ``unsharded``.

    Raises:
        argparse.ArgumentTypeError: on anything else.
    """
    if value == "unsharded":
        return None
    if value.isdigit() and 0 < int(value) <= 1024:
        return int(value)
    msg = f"must be a shard count (1-1024) or 'unsharded', not {value!r}"
    raise argparse.ArgumentTypeError(msg)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environment", required=True, help="Meltano environment, e.g. prod")
    parser.add_argument(
        "--from",
        dest="old",
        type=layout,
        required=True,
        help="the shard count of the runs so far, or 'unsharded'",
    )
    parser.add_argument(
        "--to",
        dest="new",
        type=layout,
        required=True,
        help="the shard count of the next runs, or 'unsharded'",
    )
    parser.add_argument("--job", default=DEFAULT_JOB, help=f"state id base (default {DEFAULT_JOB})")
    parser.add_argument(
        "--meltano",
        default=str(Path(sys.executable).with_name("meltano")),
        help="the meltano executable",
    )
    parser.add_argument("--dry-run", action="store_true", help="print, write nothing")
    return parser.parse_args(argv)


def old_state_ids(meltano: Meltano, args: argparse.Namespace) -> list[str]:
    """The state ids of the old layout that hold state.

    Raises:
        ReshardError: if none does (a typo in --environment, --from or --job).
    """
    known = meltano.known()
    old = [state_id for state_id, _ in state_ids(args.environment, args.job, args.old)]
    found = [state_id for state_id in old if state_id in known]
    if not found:
        msg = f"no state under {old[0]}{' ...' if len(old) > 1 else ''}: nothing to carry over"
        raise ReshardError(msg)
    return found


def main(argv: list[str] | None = None) -> int:
    """Carry the bookmarks over; one line per new state id."""
    args = parse_args(argv)
    meltano = Meltano(args.meltano, args.environment)
    try:
        found = old_state_ids(meltano, args)
        merged = merge_states([meltano.get(state_id) for state_id in found])
        for state_id, shard in state_ids(args.environment, args.job, args.new):
            state = state_of_shard(merged, shard)
            shops = {
                _shop_of(p)
                for entry in state["bookmarks"].values()
                for p in entry.get("partitions", [])
            }
            print(f"{state_id}: bookmarks of {len(shops - {None})} shops")
            if not args.dry_run:
                meltano.set(state_id, state)
    except ReshardError as exc:
        print(f"reshard_state: {exc}", file=sys.stderr)
        return 1
    if not args.dry_run:
        print(
            f"Done. Old state ids left as they were ({len(found)}); remove them once the new "
            f"shards ran: meltano --environment={args.environment} state clear STATE_ID",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
