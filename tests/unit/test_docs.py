"""The docs agree with the code: generated tables, schema coverage, links between the pages."""

from __future__ import annotations

import json
import re
import sys
import typing as t
from pathlib import Path

import pytest

from tap_tiktok_shop.client import TikTokShopStream
from tap_tiktok_shop.scopes import package_of
from tap_tiktok_shop.settings import CONFIG_SCHEMA
from tap_tiktok_shop.streams import STREAM_TYPES
from tap_tiktok_shop.streams.affiliate import sku_lines
from tap_tiktok_shop.streams.shops import ShopsStream
from tiktok_shop_emulator.shapes import SHAPES_DIR

REPO = Path(__file__).resolve().parents[2]
#: The published API shapes, kept in the repository (the emulator serves the same files), so a
#: fresh clone with nothing beside it runs these tests.
REFERENCE = SHAPES_DIR
sys.path.insert(0, str(REPO / "scripts"))

import update_readme_settings  # noqa: E402

#: stream name -> the API shape file its schema must cover
SCHEMA_REFERENCES = {
    "orders": "order_shape_search_202309.json",
    "returns": "returns_search_202309.json",
    "cancellations": "cancellations_search_202309.json",
    "products": "products_search_202502.json",
    "statements": "statements_202309.json",
    "statement_transactions": "statement_transactions_202501.json",
    "payments": "payments_202309.json",
    "withdrawals": "withdrawals_202309.json",
    "shop_performance_daily": "analytics_shop_performance_202509_interval.json",
    "shop_product_performance_daily": "analytics_shop_product_performance_list_202605.json",
    "shop_sku_performance_daily": "analytics_shop_sku_performance_list_202509.json",
    "shop_video_performance_daily": "analytics_shop_video_performance_list_202605.json",
    "shop_live_sessions": "analytics_shop_live_performance_list_202509.json",
    "affiliate_order_skus": "affiliate_seller_orders_search_202410.json",
}
#: Streams whose record is a part of the API object: stream -> how the tap cuts it (applied to
#: the shape itself, whose one list element stands for every element).
RECORD_OF = {"affiliate_order_skus": lambda order: sku_lines(order)[0]}
#: Fields the API sends as integers that the tap emits as strings (19-digit ids: exactness).
IDS_AS_STRINGS = {"shop_sku_performance_daily.id", "shop_sku_performance_daily.product_id"}


def test_readme_settings_table_is_generated_from_about():
    readme = (REPO / "README.md").read_text()
    table = update_readme_settings.settings_table()
    assert update_readme_settings.render(readme, table) == readme, (
        "README settings table is stale: run `make docs`"
    )


def _missing(shape: t.Any, schema: dict[str, t.Any], path: str) -> list[str]:
    missing: list[str] = []
    if isinstance(shape, dict):
        properties = schema.get("properties", {})
        for key, value in shape.items():
            if key not in properties:
                missing.append(f"{path}.{key}")
            else:
                missing += _missing(value, properties[key], f"{path}.{key}")
    elif isinstance(shape, list) and shape:
        missing += _missing(shape[0], schema.get("items", {}), f"{path}[]")
    else:
        types = schema.get("type", [])
        types = [types] if isinstance(types, str) else types
        if path in IDS_AS_STRINGS and shape == "integer":
            shape = "string"
        if shape not in types:
            missing.append(f"{path} (type {shape} not in {types})")
    return missing


@pytest.mark.parametrize(("stream", "reference"), sorted(SCHEMA_REFERENCES.items()))
def test_schema_covers_every_reference_field(stream, reference):
    shape = json.loads((REFERENCE / reference).read_text())
    if stream in RECORD_OF:
        shape = RECORD_OF[stream](shape)
        assert len(shape) > 30  # every SKU field and the order's
    schema = json.loads((REPO / "tap_tiktok_shop" / "schemas" / f"{stream}.json").read_text())
    assert _missing(shape, schema, stream) == []
    assert schema["properties"]["shop_id"]["type"] == "string"


def test_coverage_check_catches_a_missing_field():
    shape = {"a": "string", "b": {"c": "integer"}}
    schema = {"properties": {"a": {"type": ["string", "null"]}, "b": {"properties": {}}}}
    assert _missing(shape, schema, "x") == ["x.b.c"]


def _readme_streams() -> dict[str, list[str]]:
    readme = (REPO / "README.md").read_text()
    table = readme.split("<!-- streams:start -->", 1)[1].split("<!-- streams:end -->", 1)[0]
    rows = [line.strip("|").split("|") for line in table.strip().splitlines()[2:]]
    return {cells[0].strip().strip("`"): [cell.strip() for cell in cells] for cells in rows}


def test_readme_streams_table_matches_the_code():
    rows = _readme_streams()
    assert list(rows) == [stream.name for stream in STREAM_TYPES]
    for stream in STREAM_TYPES:
        _, endpoint, keys, replication, scope, parent = rows[stream.name]
        assert endpoint == f"{stream.method} `{stream.path}`"
        assert keys == ", ".join(f"`{key}`" for key in stream.primary_keys)
        if stream.replication_key:
            assert replication == f"`{stream.replication_key}`"
        else:
            assert not replication.startswith("`")
        required = getattr(stream, "required_scope", "seller.authorization.info")
        if stream is ShopsStream:
            assert required == "seller.authorization.info"
        assert scope == f"{package_of(required)} (`{required}`)"
        expected_parent = stream.parent_stream_type.name if stream.parent_stream_type else ""
        assert parent == (f"`{expected_parent}`" if expected_parent else "")


def test_every_shop_stream_has_a_reference_shape():
    assert set(SCHEMA_REFERENCES) == {stream.name for stream in STREAM_TYPES} - {"shops"}


def test_reference_shapes_are_files_of_this_repository():
    assert REFERENCE.resolve().is_relative_to(REPO)
    for reference in SCHEMA_REFERENCES.values():
        assert (REFERENCE / reference).is_file(), reference


#: Settings the SDK adds to every tap (capabilities), not the tap's own.
SDK_SETTINGS = ("stream_map", "faker_config", "flattening_", "batch_config")


def test_secrets_example_mirrors_the_settings():
    example = (REPO / ".secrets.example").read_text()
    names = [name for name in CONFIG_SCHEMA["properties"] if not name.startswith(SDK_SETTINGS)]
    assert "finance_lookback_days" in names
    for name in names:
        assert f"TAP_TIKTOK_SHOP_{name.upper()}=" in example, name


#: The README is the user's guide; everything else lives in docs/ (release issue #19).
README_MAX_LINES = 260
DOCS = REPO / "docs"
#: ``[text](target)`` links of Markdown; images too (a ``!`` before the bracket changes nothing).
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def _pages() -> list[Path]:
    return [REPO / "README.md", REPO / "SECURITY.md", *sorted(DOCS.glob("*.md"))]


def _prose(text: str) -> str:
    """The text outside fenced code blocks and inline code (neither holds links)."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, spaces to '-', punctuation dropped.

    Markdown markup (backticks, emphasis, links) is rendered away first; '-' and '_' stay.
    """
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = re.sub(r"[`*]", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    """Every heading anchor of a page, with GitHub's -1, -2 suffixes for repeated ones."""
    seen: dict[str, int] = {}
    anchors = set()
    for line in FENCE.sub("", page.read_text()).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = github_slug(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _links(page: Path) -> list[str]:
    return MARKDOWN_LINK.findall(_prose(page.read_text()))


def _broken_links(page: Path, root: Path = REPO) -> list[str]:
    """The relative links of ``page`` to no file of ``root``, or to no heading of that file."""
    broken = []
    for link in _links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", link):  # https:, mailto: ...: not ours to check
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page.resolve()
        if not target.is_relative_to(root.resolve()) or not target.exists():
            broken.append(f"{link} (no file {path})")
        elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
            where = target.relative_to(root.resolve())
            broken.append(f"{link} (no heading #{anchor} in {where})")
    return broken


def test_readme_is_the_short_users_guide():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) < README_MAX_LINES, f"README.md has {len(lines)} lines: move some to docs/"


@pytest.mark.parametrize("page", _pages(), ids=lambda page: str(page.relative_to(REPO)))
def test_every_relative_link_points_to_a_file_and_heading(page):
    assert _broken_links(page) == []


def test_every_docs_page_is_linked_from_the_readme():
    readme = REPO / "README.md"
    linked = {(readme.parent / link.partition("#")[0]).resolve() for link in _links(readme)}
    pages = sorted(DOCS.glob("*.md"))
    assert pages, "docs/ has no pages"
    assert [page.name for page in pages if page.resolve() not in linked] == []


def test_link_check_catches_a_broken_file_or_heading(tmp_path):
    (tmp_path / "README.md").write_text("# Read me\n")
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# A `code` heading: it's here!\n\n## Twice\n\n## Twice\n\n"
        "[ok](#a-code-heading-its-here) [second](#twice-1) [file](../README.md#read-me) "
        "[gone](nowhere.md) [heading](../README.md#no-such-heading) [out](../../x.md) "
        "[web](https://example.com/x.md) `[code](a-link.md)`\n\n"
        "```text\n[fenced](fenced.md)\n```\n"
    )
    (tmp_path.parent / "x.md").write_text("outside the repository\n")
    assert _broken_links(page, root=tmp_path) == [
        "nowhere.md (no file nowhere.md)",
        "../README.md#no-such-heading (no heading #no-such-heading in README.md)",
        "../../x.md (no file ../../x.md)",
    ]


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("The demo", "the-demo"),
        ("Analytics (dbt)", "analytics-dbt"),
        ("6. Scale out: shards of shops", "6-scale-out-shards-of-shops"),
        (
            "The whole pipeline: `meltano run` into PostgreSQL and DuckDB",
            "the-whole-pipeline-meltano-run-into-postgresql-and-duckdb",
        ),
        ("Many sellers: one run for an agency", "many-sellers-one-run-for-an-agency"),
        ("snake_case and dash-ed", "snake_case-and-dash-ed"),
    ],
)
def test_github_slug(heading, slug):
    assert github_slug(heading) == slug


def test_the_module_map_names_every_module():
    page = (DOCS / "development.md").read_text()
    modules = sorted(
        path.relative_to(REPO / "tap_tiktok_shop")
        for path in (REPO / "tap_tiktok_shop").rglob("*.py")
        if not path.name.startswith("__")
    )
    assert modules
    assert [str(module) for module in modules if f"`{module.name}`" not in page] == []


def test_the_replaced_sdk_hooks_are_documented():
    page = (DOCS / "development.md").read_text()
    for sdk_hook, ours in TikTokShopStream.REPLACED_SDK_HOOKS.items():
        assert f"| `{sdk_hook}` | `{ours}` |" in page, sdk_hook
