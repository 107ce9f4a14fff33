"""The dbt project's column descriptions: one wording per meaning (issue 19).

A description shared by several models lives once, as a doc block in
``transform/models/shared_docs.md``, and the schema files refer to it with ``doc()``; written
out twice, the copies drift apart. dbt itself fails to parse a ``doc()`` without its block.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import yaml

TRANSFORM = Path(__file__).resolve().parents[2] / "transform"
SCHEMAS = sorted((TRANSFORM / "models").glob("*/schema.yml"))
DOC_REF = re.compile(r"""\{\{\s*doc\(["'](\w+)["']\)\s*\}\}""")


def _columns() -> list[tuple[str, str, str]]:
    """(model, column, description) of every described column of every schema file."""
    found = []
    for path in SCHEMAS:
        for model in yaml.safe_load(path.read_text()).get("models", []):
            for column in model.get("columns") or []:
                found.append((model["name"], column["name"], str(column.get("description", ""))))
    return found


def _blocks() -> dict[str, str]:
    text = (TRANSFORM / "models" / "shared_docs.md").read_text()
    return {
        name: body.strip()
        for name, body in re.findall(r"\{% docs (\w+) %\}(.*?)\{% enddocs %\}", text, flags=re.S)
    }


def test_no_description_is_written_out_twice():
    written = collections.Counter(
        (column, description.strip())
        for _, column, description in _columns()
        if description and not DOC_REF.search(description)
    )
    assert [key for key, count in written.items() if count > 1] == []


def test_every_shared_block_is_used_by_two_columns_or_more():
    uses = collections.Counter(
        ref for _, _, description in _columns() for ref in DOC_REF.findall(description)
    )
    blocks = _blocks()
    assert set(uses) <= set(blocks)
    assert {name for name in blocks if uses[name] < 2} == set()


def test_the_check_sees_a_repeated_description():
    assert _columns(), "no columns read: the schema files moved?"
    assert DOC_REF.search("""'{{ doc("tiktok_shop_order_id") }}'""")
