"""The text plan's outputs: one key a line, nested values indented, readable back as YAML."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from offline_preview.render import _output_lines

VALUES: list[Any] = [
    "plain",
    'quotes " and \\ and unicode é',
    42,
    True,
    None,
    {},
    [],
    {"b": 1, "a": {"z": [], "y": {}}},
    # keys YAML would not read back as the same string unless quoted
    {"yes": 1, "on": 2, "NULL": 3, "1": 4, "a b": 5, "ns:name": 6, "": 7, "- x": 8},
    {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/r", "team/web": "url"},
    ["a", 1, {"k": "v", "j": ["x", {"deep": True}]}, ["inner", []], {}],
    [{"annotations": {"a/b": "c"}, "create": False, "name": "sa", "namespace": "ns"}],
]


@pytest.mark.parametrize("value", VALUES, ids=[str(i) for i in range(len(VALUES))])
def test_an_output_reads_back_as_itself(value: Any) -> None:
    lines = _output_lines("  out:", value, 2)
    assert all(line.startswith("  ") for line in lines)
    assert yaml.safe_load("\n".join(lines)) == {"out": value}


def test_scalars_stay_on_the_keys_line_and_maps_are_sorted() -> None:
    assert _output_lines("  region:", "us-east-1", 2) == ['  region: "us-east-1"']
    assert _output_lines("  urls:", {}, 2) == ["  urls: {}"]
    assert _output_lines("  values:", {"b": [{"name": "sa", "create": True}], "a": "ns:sa"}, 2) == [
        "  values:",
        '    a: "ns:sa"',
        "    b:",
        "      - create: true",
        '        name: "sa"',
    ]
    # quoted: a `:` inside, and words YAML 1.1 parsers (Helm's among them) read as booleans
    assert _output_lines("  annotations:", {"poolside:core-api-sa": "a", "on": "b", "y": 1}, 2) == [
        "  annotations:",
        '    "on": "b"',
        '    "poolside:core-api-sa": "a"',
        '    "y": 1',
    ]
