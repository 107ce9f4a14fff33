"""The dbt project's vars: the source schema and one switch per optional stream (issue 19).

A deselected stream's models are disabled by its var, never by --exclude: with --vars, or
through the environment variable the var falls back to, which the Meltano utility exports from
its `<stream>_enabled` setting; its `source_schema` setting reaches the models the same way.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.support.meltano_project import REPO, MeltanoProject

#: optional stream -> the models that read it and only it
OPTIONAL = {
    "payments": {"stg_tiktok_shop__payments"},
    "withdrawals": {"stg_tiktok_shop__withdrawals"},
    "statements": {"stg_tiktok_shop__statements", "tiktok_shop__statement_lines"},
    "statement_transactions": {
        "stg_tiktok_shop__statement_transactions",
        "tiktok_shop__statement_lines",
    },
    "shop_video_performance_daily": {
        "stg_tiktok_shop__video_performance_daily",
        "tiktok_shop__video_daily",
    },
    "shop_live_sessions": {"stg_tiktok_shop__live_sessions", "tiktok_shop__live_sessions"},
}


#: streams selected only on request: their models are off unless switched on
OPT_IN = {"affiliate_order_skus"}


@pytest.fixture(scope="module")
def dbt(meltano_project: MeltanoProject, tmp_path_factory: pytest.TempPathFactory):
    meltano_project.install("utility", "dbt-duckdb")
    target = tmp_path_factory.mktemp("dbt-target")

    def ls(*args: str, env: dict[str, str] | None = None) -> dict[str, dict]:
        done = meltano_project.meltano(
            "invoke",
            "dbt-duckdb",
            "ls",
            "--resource-type",
            "model",
            "--output",
            "json",
            "--output-keys",
            "name resource_type",
            "-q",
            *args,
            env={
                "DBT_TARGET_PATH": str(target),
                "DBT_LOG_PATH": str(target / "logs"),
                **(env or {}),
            },
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        nodes = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return {node["name"]: node for node in nodes if node["resource_type"] == "model"}

    return ls


@pytest.fixture(scope="module")
def everything(dbt) -> set[str]:
    """The models with no var set: listed once for the module."""
    return set(dbt())


def test_every_optional_model_is_enabled_by_default(everything):
    for stream, names in OPTIONAL.items():
        assert names <= everything, stream


@pytest.mark.parametrize("stream", sorted(OPTIONAL))
def test_a_false_var_disables_exactly_the_models_of_its_stream(dbt, everything, stream):
    left = set(dbt("--vars", json.dumps({f"tiktok_shop_{stream}_enabled": False})))
    assert everything - left == OPTIONAL[stream]


def test_a_switch_is_a_setting_of_the_meltano_utility(dbt):
    # The utility's own setting (here through its Meltano variable, as `meltano config
    # dbt-duckdb set payments_enabled false` would store it) reaches dbt's var.
    left = set(dbt(env={"DBT_DUCKDB_PAYMENTS_ENABLED": "false"}))
    assert "stg_tiktok_shop__payments" not in left
    assert "stg_tiktok_shop__withdrawals" in left


def test_every_switch_the_models_read_is_a_setting_of_both_utilities():
    models = REPO / "transform" / "models"
    switch = re.compile(r"tiktok_shop_(?:enabled|loaded_source)\('(\w+)'")
    read = {name for path in models.rglob("*.sql") for name in switch.findall(path.read_text())}
    assert set(OPTIONAL) <= read
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    for utility in ("dbt-postgres", "dbt-duckdb"):
        plugin = next(p for p in project["plugins"]["utilities"] if p["name"] == utility)
        switches = {
            setting["env"]: setting.get("value")
            for setting in plugin["settings"]
            if setting["name"].endswith("_enabled")
        }
        expected = {f"TIKTOK_SHOP_{name.upper()}_ENABLED": name not in OPT_IN for name in read}
        assert switches == expected, utility


def test_the_source_schema_setting_reaches_the_models(meltano_project, tmp_path):
    meltano_project.install("utility", "dbt-duckdb")
    done = meltano_project.meltano(
        "invoke",
        "dbt-duckdb",
        "compile",
        "-q",
        "--inline",
        "select * from {{ source('tiktok_shop', 'orders') }}",
        env={
            "DBT_DUCKDB_SOURCE_SCHEMA": "raw_from_meltano",
            "DBT_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
            "DBT_TARGET_PATH": str(tmp_path / "target"),
            "DBT_LOG_PATH": str(tmp_path / "logs"),
        },
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert '"raw_from_meltano"."orders"' in done.stdout
