"""Dagster code location: shards of shops synced in parallel, then the dbt marts built once.

Each shard is one ``meltano run tap-tiktok-shop target-postgres`` with the tap's ``shard``
setting (``TAP_TIKTOK_SHOP_SHARD=INDEX/COUNT``: a stable hash of the shop id, so every shop is
in exactly one shard and a new shop lands in one by itself) and its own state id suffix
(``shard-INDEX-of-COUNT``, the tap's ``Shard.state_id_suffix``), so shards never share
bookmarks, and its own Meltano run directory (``shard_dirs.py``: concurrent runs of one
extractor would share its catalog and state files). A failed shard is retried alone; the marts
are built once every shard succeeded.

Dagster only starts Meltano processes: it runs in its own venv (``make dagster-setup``, see
requirements.in for why) and imports nothing of the tap. Credentials reach Meltano as they do
on the command line (``.env``, ``TAP_TIKTOK_SHOP_*`` / ``TARGET_POSTGRES_*`` variables); no
secret is ever part of the run config or of a command line.

    dagster definitions validate -f orchestration/dagster/definitions.py
    dagster job execute -f orchestration/dagster/definitions.py -j tiktok_shop_shards
"""

import collections
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from dagster import (
    Config,
    ConfigurableResource,
    DefaultScheduleStatus,
    Definitions,
    DynamicOut,
    DynamicOutput,
    Failure,
    OpExecutionContext,
    RetryRequested,
    ScheduleDefinition,
    job,
    multiprocess_executor,
    op,
)
from pydantic import Field

# shard_dirs.py lies beside this file; Dagster loads this file by path, in every step process.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from shard_dirs import shard_environment

#: The Meltano project: the repository root (meltano.yml).
PROJECT_DIR = Path(__file__).resolve().parents[2]
#: Lines of a failed Meltano command kept for the failure's description (bounded memory).
TAIL_LINES = 40


def _default_meltano() -> str:
    """The project's own Meltano (``make setup``), else the one on PATH."""
    local = PROJECT_DIR / ".venv" / "bin" / "meltano"
    return str(local) if local.exists() else "meltano"


class MeltanoProject(ConfigurableResource):  # type: ignore[misc]
    """Where and how Meltano runs: the project, its environment, the plugins to run."""

    project_dir: str = Field(default=str(PROJECT_DIR), description="Holds meltano.yml.")
    environment: str = Field(default="prod", description="Meltano environment (--environment).")
    meltano_bin: str = Field(default_factory=_default_meltano, description="Meltano command.")
    loader: str = Field(default="target-postgres", description="The loader every shard runs.")
    marts_command: str = Field(
        default="dbt-postgres:build",
        description="The `meltano invoke` command that builds the marts.",
    )
    timeout_minutes: int = Field(
        default=180, ge=1, description="A Meltano command running longer is killed."
    )

    def run(
        self,
        context: OpExecutionContext,
        args: list[str],
        env: dict[str, str] | None = None,
        *,
        environment: bool = True,
    ) -> tuple[int, list[str]]:
        """Run ``meltano --environment=ENV ARGS``; its output goes to the step's log.

        Returns the exit code and the last lines of output (for a failure's description).
        """
        chosen = [f"--environment={self.environment}"] if environment else []
        command = [self.meltano_bin, *chosen, *args]
        context.log.info("Running %s", " ".join(command))
        process = subprocess.Popen(  # noqa: S603 (a fixed command, no shell)
            command,
            cwd=self.project_dir,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        watchdog = threading.Timer(self.timeout_minutes * 60, process.kill)
        watchdog.start()
        tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        try:
            assert process.stdout is not None  # stdout=PIPE above
            for line in process.stdout:
                sys.stderr.write(line)  # Dagster captures it as the step's compute log
                tail.append(line.rstrip("\n"))
            returncode = process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        return returncode, list(tail)


class ShardPlan(Config):  # type: ignore[misc]
    """How many shards the shops are split into (changing it: README, "Changing the count")."""

    shard_count: int = Field(default=3, ge=1, le=1024)


class ShardRetries(Config):  # type: ignore[misc]
    """How a failed shard is retried: alone, the other shards untouched."""

    max_retries: int = Field(default=2, ge=0)
    retry_delay_seconds: float = Field(default=60, ge=0)


@op(out=DynamicOut(str))
def plan_shards(
    context: OpExecutionContext, config: ShardPlan, meltano: MeltanoProject
) -> Iterator[DynamicOutput[str]]:
    """One ``INDEX/COUNT`` per shard: the tap decides which shops each holds.

    First brings Meltano's system database up to date, once: shards that all start on a new
    database would each run its migrations at the same moment, and all but one fail.

    Raises:
        Failure: when Meltano cannot open its system database.
    """
    returncode, tail = meltano.run(context, ["upgrade", "database"], environment=False)
    if returncode != 0:
        raise Failure(
            description=f"meltano upgrade database exited {returncode}",
            metadata={"output (last lines)": "\n".join(tail)},
        )
    for index in range(config.shard_count):
        yield DynamicOutput(
            f"{index}/{config.shard_count}", mapping_key=f"shard_{index}_of_{config.shard_count}"
        )


def state_id_suffix(shard: str) -> str:
    """``shard-INDEX-of-COUNT``, as ``Shard.state_id_suffix`` of tap_tiktok_shop.sharding."""
    index, count = shard.split("/")
    return f"shard-{index}-of-{count}"


@op
def sync_shard(
    context: OpExecutionContext, config: ShardRetries, meltano: MeltanoProject, shard: str
) -> str:
    """``meltano run tap-tiktok-shop LOADER`` for one shard, with the shard's own state id.

    Raises:
        RetryRequested: when the run failed and retries are left (this shard only reruns).
        Failure: when the run failed and no retry is left.
    """
    returncode, tail = meltano.run(
        context,
        ["run", f"--state-id-suffix={state_id_suffix(shard)}", "tap-tiktok-shop", meltano.loader],
        env={
            "TAP_TIKTOK_SHOP_SHARD": shard,
            **shard_environment(meltano.project_dir, state_id_suffix(shard)),
        },
    )
    if returncode == 0:
        return shard
    failure = Failure(
        description=f"shard {shard}: meltano run exited {returncode}",
        metadata={"output (last lines)": "\n".join(tail)},
    )
    if context.retry_number < config.max_retries:
        raise RetryRequested(
            max_retries=config.max_retries, seconds_to_wait=config.retry_delay_seconds
        ) from failure
    raise failure


@op
def build_marts(context: OpExecutionContext, meltano: MeltanoProject, shards: list[str]) -> None:
    """Build the dbt marts once, on what every shard loaded.

    Raises:
        Failure: when the dbt build failed.
    """
    context.log.info("All %d shards loaded; building the marts", len(shards))
    returncode, tail = meltano.run(context, ["invoke", meltano.marts_command])
    if returncode != 0:
        raise Failure(
            description=f"{meltano.marts_command} exited {returncode}",
            metadata={"output (last lines)": "\n".join(tail)},
        )


@job(
    executor_def=multiprocess_executor,
    config={"execution": {"config": {"max_concurrent": 4}}},
    description="Every shard of shops in parallel (meltano run), then the dbt marts once.",
)
def tiktok_shop_shards() -> None:
    """The sharded pipeline: plan, sync each shard (in parallel), build the marts."""
    build_marts(plan_shards().map(sync_shard).collect())


hourly = ScheduleDefinition(
    name="tiktok_shop_shards_hourly",
    job=tiktok_shop_shards,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Every hour, each shard continues from its own bookmarks.",
)

defs = Definitions(
    jobs=[tiktok_shop_shards], schedules=[hourly], resources={"meltano": MeltanoProject()}
)
