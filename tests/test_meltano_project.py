"""meltano.yml agrees with the code: settings, capabilities, streams, pins, environments."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
import subprocess
import sys
import typing as t
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
import yaml

from tap_tiktok_shop.streams import STREAM_TYPES

REPO = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((REPO / "meltano.yml").read_text())
#: JSON schema type of a setting -> the Meltano setting kind that holds it.
KINDS = {
    "string": "string",
    "integer": "integer",
    "boolean": "boolean",
    "number": "decimal",
    "array": "array",
    "object": "object",
}
REQUIRED_CAPABILITIES = {"catalog", "discover", "state", "about", "stream-maps"}


def _plugin(plugin_type: str, name: str) -> dict[str, t.Any]:
    return next(p for p in PROJECT["plugins"][plugin_type] if p["name"] == name)


TAP = _plugin("extractors", "tap-tiktok-shop")


def _own_settings() -> dict[str, t.Any]:
    """settings.CONFIG_SCHEMA as written: a fresh copy of the module, since the SDK appends its
    built-in settings (stream_maps, ...) to the tap class's schema dict in place."""
    importlib.import_module("tap_tiktok_shop.settings")  # its dataclasses look themselves up
    spec = importlib.util.find_spec("tap_tiktok_shop.settings")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return t.cast("dict[str, t.Any]", module.CONFIG_SCHEMA)


CONFIG_SCHEMA = _own_settings()


@pytest.fixture(scope="module")
def about() -> dict[str, t.Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tap_tiktok_shop", "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return t.cast("dict[str, t.Any]", json.loads(done.stdout))


def _expected_kind(prop: dict[str, t.Any]) -> str:
    kind = KINDS[next(k for k in prop["type"] if k != "null")]
    if kind == "string" and prop.get("description", "").startswith("ISO-8601"):
        return "date_iso8601"
    return kind


def test_meltano_yml_is_valid_for_meltano():
    schema = json.loads(files("meltano").joinpath("schemas/meltano.schema.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [error.message for error in validator.iter_errors(PROJECT)] == []


def test_every_setting_of_about_is_declared_with_its_kind_and_sensitivity(about):
    properties = about["settings"]["properties"]
    declared = {setting["name"]: setting for setting in TAP["settings"]}
    assert sorted(declared) == sorted(properties)
    for name, prop in properties.items():
        setting = declared[name]
        assert setting["kind"] == _expected_kind(prop), name
        assert setting.get("sensitive", False) == prop.get("secret", False), name


def test_the_taps_own_settings_are_mirrored_word_for_word():
    declared = {setting["name"]: setting for setting in TAP["settings"]}
    for name, prop in CONFIG_SCHEMA["properties"].items():
        setting = declared[name]
        assert setting["label"] == prop["title"], name
        assert setting["description"] == prop["description"], name
        assert setting.get("value") == prop.get("default"), name


def test_settings_group_validation_names_declared_settings():
    declared = {setting["name"] for setting in TAP["settings"]}
    required = set(CONFIG_SCHEMA["required"])
    for group in TAP["settings_group_validation"]:
        assert set(group) <= declared
        assert required <= set(group)


def test_capabilities_are_the_taps(about):
    declared = set(TAP["capabilities"])
    assert REQUIRED_CAPABILITIES <= declared <= set(about["capabilities"])


def test_select_names_real_streams_and_the_default_ones():
    streams = {stream_type.name for stream_type in STREAM_TYPES}
    selected = {pattern.split(".", 1)[0] for pattern in TAP["select"]}
    assert selected <= streams
    assert {"shops", "orders"} <= selected


def _arrays_of_objects(stream_type: t.Any) -> set[str]:
    schema = json.loads(
        files("tap_tiktok_shop.schemas").joinpath(f"{stream_type.name}.json").read_text()
    )
    found = set()
    for name, prop in schema["properties"].items():
        types = prop.get("type", [])
        item_types = prop.get("items", {}).get("type", [])
        if "array" in types and "object" in item_types:
            found.add(name)
    return found


@pytest.mark.parametrize("stream_type", STREAM_TYPES, ids=lambda s: s.name)
def test_every_array_of_objects_reaches_the_loaders_as_one_json_value(stream_type):
    """Without `items`, target-postgres stores one jsonb, not a slowly quoted jsonb[] array."""
    overrides = TAP["schema"].get(stream_type.name, {})
    assert set(overrides) == _arrays_of_objects(stream_type)
    for override in overrides.values():
        assert override == {"type": ["array", "null"]}


def test_the_tap_installs_from_this_checkout():
    assert TAP["pip_url"] == "-e ."
    assert TAP["executable"] == "tap-tiktok-shop"
    assert "variant" not in TAP  # no Hub lookup: everything is defined inline
    assert TAP["namespace"] == "tap_tiktok_shop"


@pytest.mark.parametrize("name", ["target-postgres", "target-duckdb"])
def test_loaders_are_inline_with_exact_pins(name):
    loader = _plugin("loaders", name)
    assert "variant" not in loader
    assert loader["namespace"] == name.replace("-", "_")
    for requirement in loader["pip_url"].split():
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", requirement), requirement


def test_the_demo_reads_duckdb_files_with_the_targets_duckdb_version():
    pyproject_pins = re.findall(r'"(duckdb==[^"]+)"', (REPO / "pyproject.toml").read_text())
    loader_pins = _plugin("loaders", "target-duckdb")["pip_url"].split()
    assert len(pyproject_pins) == 1
    assert pyproject_pins[0] in loader_pins


def test_the_demo_environment_points_both_hosts_at_the_emulator():
    environments = {env["name"]: env for env in PROJECT["environments"]}
    assert PROJECT["default_environment"] in environments
    demo = environments["demo"]["config"]["plugins"]
    tap_config = next(p for p in demo["extractors"] if p["name"] == "tap-tiktok-shop")["config"]
    assert (
        tap_config["api_base_url"] == tap_config["auth_base_url"] == ("${TIKTOK_SHOP_EMULATOR_URL}")
    )
    assert {"app_key", "app_secret", "refresh_token"} <= set(tap_config)


def test_schedules_run_declared_jobs_of_declared_plugins():
    plugins = {p["name"] for kind in PROJECT["plugins"].values() for p in kind}
    jobs = {job["name"]: job for job in PROJECT["jobs"]}
    assert PROJECT["schedules"]
    for schedule in PROJECT["schedules"]:
        for task in jobs[schedule["job"]]["tasks"]:
            assert set(task.split()) <= plugins


def test_secrets_example_lists_every_setting_of_the_tap():
    example = (REPO / ".secrets.example").read_text()
    listed = set(re.findall(r"^#? ?TAP_TIKTOK_SHOP_([A-Z_]+)=", example, flags=re.MULTILINE))
    assert listed == {name.upper() for name in CONFIG_SCHEMA["properties"]}


def test_secrets_example_names_only_declared_loader_settings():
    example = (REPO / ".secrets.example").read_text()
    listed = set(re.findall(r"^#? ?TARGET_POSTGRES_([A-Z_]+)=", example, flags=re.MULTILINE))
    declared = {
        setting["name"].upper() for setting in _plugin("loaders", "target-postgres")["settings"]
    }
    assert listed
    assert listed <= declared
