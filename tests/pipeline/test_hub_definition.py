"""The Meltano Hub definition (hub/extractors/tap-tiktok-shop.yml) is the code's, and works.

The file is generated from ``--about`` by scripts/hub_definition.py: the first test fails when
it drifts (run ``make hub``). The others check it against what Meltano Hub and Meltano accept
and against meltano.yml, and the last one adds it to a fresh Meltano project, installs the
plugin from this checkout and syncs shops and orders from the emulator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.support.meltano_project import (
    FOREIGN_PREFIXES,
    MELTANO,
    REPO,
    emulator_settings,
    tap_env,
)
from tests.support.tap_runs import assert_no_secrets, secret_values
from tiktok_shop_emulator import Emulator

sys.path.insert(0, str(REPO / "scripts"))

import hub_definition

HUB_FILE = REPO / "hub" / "extractors" / "tap-tiktok-shop.yml"
DEFINITION = yaml.safe_load(HUB_FILE.read_text())
PROJECT_TAP = next(
    plugin
    for plugin in yaml.safe_load((REPO / "meltano.yml").read_text())["plugins"]["extractors"]
    if plugin["name"] == "tap-tiktok-shop"
)
#: What Meltano Hub's plugin schema allows (hub repository, schemas/): required keys, the
#: setting keys and kinds it knows, the maintenance statuses and the extractor capabilities.
HUB_REQUIRED = {"name", "namespace", "variant", "label"}
HUB_SETTING_KEYS = {
    "name",
    "aliases",
    "label",
    "value",
    "placeholder",
    "kind",
    "description",
    "tooltip",
    "documentation",
    "protected",
    "env",
    "value_processor",
    "value_post_processor",
    "oauth",
    "options",
    "docs",
    "sensitive",
}
HUB_KINDS = {
    "oauth",
    "date_iso8601",
    "file",
    "email",
    "integer",
    "decimal",
    "options",
    "object",
    "array",
    "boolean",
    "string",
}
HUB_STATUSES = {"active", "beta", "development", "inactive", "unknown"}
HUB_CAPABILITIES = {
    "properties",
    "catalog",
    "discover",
    "state",
    "about",
    "stream-maps",
    "schema-flattening",
    "activate-version",
    "batch",
    "test",
    "log-based",
    "structured-logging",
}


@pytest.fixture(scope="module")
def about() -> dict[str, t.Any]:
    return hub_definition.about()


def test_committed_file_is_what_the_generator_writes_now(about):
    assert HUB_FILE.read_text() == hub_definition.render(about), (
        "hub/extractors/tap-tiktok-shop.yml is stale: run `make hub`"
    )


def test_every_setting_of_about_is_in_the_definition_with_its_sensitivity(about):
    properties = about["settings"]["properties"]
    settings = {setting["name"]: setting for setting in DEFINITION["settings"]}
    assert list(settings) == list(properties)
    for name, prop in properties.items():
        assert settings[name].get("sensitive", False) == prop.get("secret", False), name
        assert settings[name]["label"] == prop["title"], name
        assert settings[name].get("value") == prop.get("default"), name
    assert settings["app_secret"]["sensitive"] is True
    assert settings["analytics_currency"]["kind"] == "options"
    assert [option["value"] for option in settings["analytics_currency"]["options"]] == [
        "LOCAL",
        "USD",
    ]


def test_definition_has_what_meltano_hub_requires():
    assert HUB_REQUIRED <= set(DEFINITION)
    assert DEFINITION["maintenance_status"] in HUB_STATUSES
    assert set(DEFINITION["capabilities"]) <= HUB_CAPABILITIES
    assert DEFINITION["pip_url"] == "tap-tiktok-shop"
    assert DEFINITION["executable"] == "tap-tiktok-shop"
    assert DEFINITION["repo"].startswith("https://github.com/")
    assert DEFINITION["docs"].startswith(DEFINITION["repo"])
    for setting in DEFINITION["settings"]:
        assert set(setting) <= HUB_SETTING_KEYS, setting["name"]
        assert setting["kind"] in HUB_KINDS, setting["name"]
        assert setting["description"], setting["name"]


def test_definition_is_a_valid_meltano_plugin_entry():
    """Without the keys only the Hub reads, it is what a meltano.yml may hold."""
    entry = {
        key: value for key, value in DEFINITION.items() if key not in hub_definition.HUB_ONLY_KEYS
    }
    project = {"plugins": {"extractors": [entry]}}
    schema = json.loads(files("meltano").joinpath("schemas/meltano.schema.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [error.message for error in validator.iter_errors(project)] == []


def test_definition_agrees_with_meltano_yml(about):
    """Same settings, kinds (a closed list is ``options`` on the Hub), sensitivity, defaults,
    credential groups; meltano.yml claims no capability the definition lacks."""
    project = {setting["name"]: setting for setting in PROJECT_TAP["settings"]}
    hub = {setting["name"]: setting for setting in DEFINITION["settings"]}
    assert sorted(project) == sorted(hub)
    for name, setting in hub.items():
        kind = "string" if setting["kind"] == "options" else setting["kind"]
        assert project[name]["kind"] == kind, name
        assert project[name].get("sensitive", False) == setting.get("sensitive", False), name
        assert project[name].get("value") == setting.get("value"), name
    assert DEFINITION["settings_group_validation"] == PROJECT_TAP["settings_group_validation"]
    assert set(PROJECT_TAP["capabilities"]) <= set(DEFINITION["capabilities"])
    assert DEFINITION["capabilities"] == sorted(about["capabilities"])
    assert DEFINITION["namespace"] == PROJECT_TAP["namespace"]


def test_setting_kind_rules():
    assert hub_definition.setting_kind({"type": ["number", "null"]}) == "decimal"
    assert hub_definition.setting_kind({"type": ["string"], "enum": ["A", "B"]}) == "options"
    assert (
        hub_definition.setting_kind({"type": ["string", "null"], "description": "ISO-8601 date"})
        == "date_iso8601"
    )
    assert hub_definition.setting_kind({"type": "integer"}) == "integer"


def _meltano(
    project: Path, *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MELTANO), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_meltano_adds_installs_and_runs_the_hub_definition(tmp_path, emulator_factory):
    """A fresh Meltano project adds the extractor from the Hub file (pip_url: this checkout,
    pinned by the lock), installs it with uv and syncs shops and orders from the emulator."""
    emu: Emulator = emulator_factory(shops=2, orders_per_shop=25)
    env = {key: value for key, value in os.environ.items() if not key.startswith(FOREIGN_PREFIXES)}
    # uv's cache of the developer's machine (the tests point XDG_CACHE_HOME at a temporary
    # directory): packages `make setup` already fetched install from it in seconds.
    env["UV_CACHE_DIR"] = os.environ.get("UV_CACHE_DIR") or str(Path.home() / ".cache" / "uv")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = _meltano(tmp_path, "init", "project", "--no_usage_stats", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    project = tmp_path / "project"

    local = dict(DEFINITION, pip_url=f"{REPO} -c {REPO / 'requirements-lock.txt'}")
    reference = tmp_path / "tap-tiktok-shop.yml"
    reference.write_text(yaml.safe_dump(local, sort_keys=False))
    # `meltano add extractor NAME --from-ref FILE` adds a utility too in Meltano 4.4.1.
    done = _meltano(
        project,
        "add",
        "--plugin-type",
        "extractor",
        "tap-tiktok-shop",
        "--from-ref",
        str(reference),
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    added = yaml.safe_load((project / "meltano.yml").read_text())["plugins"]
    assert list(added) == ["extractors"]
    (entry,) = added["extractors"]
    assert entry["settings"] == DEFINITION["settings"]
    assert entry["settings_group_validation"] == DEFINITION["settings_group_validation"]
    assert (
        project / ".meltano" / "extractors" / "tap-tiktok-shop" / "venv" / "bin" / "tap-tiktok-shop"
    ).exists()

    config = emulator_settings(emu)
    env.update(tap_env(config))
    env["TAP_TIKTOK_SHOP__SELECT"] = json.dumps(["shops.*", "orders.*"])
    done = _meltano(project, "invoke", "tap-tiktok-shop", env=env)
    assert_no_secrets(done.stdout + done.stderr, secret_values(emu, config))
    assert done.returncode == 0, done.stderr[-3000:]
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    records: dict[str, list[dict[str, t.Any]]] = {}
    for message in messages:
        if message["type"] == "RECORD":
            records.setdefault(message["stream"], []).append(message["record"])
    assert set(records) == {"shops", "orders"}
    assert sorted(shop["id"] for shop in records["shops"]) == sorted(
        shop["id"] for shop in emu.shops()
    )
    expected = {
        (shop["id"], row["id"]) for shop in emu.shops() for row in emu.orders_for_shop(shop["id"])
    }
    assert len(expected) == 50
    assert {(order["shop_id"], order["id"]) for order in records["orders"]} == expected
