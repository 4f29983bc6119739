"""The YAML loader reads files exactly as PyYAML's ``safe_load`` (YAML 1.1) did, and keeps positions."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from seamless_config import ConfigurationError
from seamless_config.core.yaml_io import SexagesimalInt, YamlDocument, load_yaml_file, parse_yaml
from seamless_config.errors import ConfigFileError

# Plain scalars whose YAML 1.1 meaning surprises people (or differs from YAML 1.2).
TRICKY_SCALARS = [
    # booleans, YAML 1.1 style
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
    "true", "True", "TRUE", "false", "False", "FALSE",
    "y", "n", "Y", "N", "yEs", "tRUE",
    # nulls
    "~", "null", "Null", "NULL", "", "nUll",
    # integers: decimal, octal, hex, binary, underscores, signs
    "0", "-0", "+0", "7", "-7", "+7", "1_000", "007", "010", "0_7", "-010", "08", "09", "0o10",
    "0x1F", "0x_1f", "-0x1F", "+0x1F", "0b101", "-0b1_01", "1__0",
    # sexagesimal (base 60) integers and floats
    "1:00:00", "1:30", "190:20:30", "-1:00", "+1:00", "1:60", "01:00:00", "0:30", "1:00:00.5",
    # floats (note: 1e3 without a dot is a *string* in YAML 1.1)
    "1e3", "1E3", "1e+3", "1.0e3", "1.0e+3", "1.0e-3", "1.5", ".5", "-.5", "+.5", "3.", "1_0.5",
    ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", "inf", "nan", "1.2.3",
    # timestamps
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
    "2001-12-15T02:59:43.1Z", "2001-12-14 21:59:43", "2001-1-4",
    # things that stay strings
    "10m", "32000MB", "0.0.0.0", "127.0.0.1", "hashserver", "seamless-dask", "--gres=gpu:1",
    "1m30s", "0x", "0b", "1e", "a:b", "/tmp", "~/x", "x y",
]


def _same(a: Any, b: Any) -> bool:
    """Equality that also treats NaN as equal to NaN and compares types."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b) and not (isinstance(a, int) and type(b) is int and not isinstance(a, bool)):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def ours(text: str) -> Any:
    return parse_yaml(text, Path("t.yaml")).data


@pytest.mark.parametrize("scalar", TRICKY_SCALARS)
def test_plain_scalar_matches_pyyaml(scalar: str) -> None:
    text = f"v: {scalar}\n"
    expected = yaml.safe_load(text)["v"]
    got = ours(text)["v"]
    assert _same(got, expected), (scalar, got, expected)


# Usable as plain mapping keys and list items (NaN keys never compare equal).
KEY_SCALARS = [
    s for s in TRICKY_SCALARS
    if s not in ("", "~", "null", "Null", "NULL") and ":" not in s and not s.startswith("-") and s.lower() != ".nan"
]


@pytest.mark.parametrize("scalar", KEY_SCALARS)
def test_plain_scalar_as_key_and_list_item_matches_pyyaml(scalar: str) -> None:
    text = f"- {scalar}\n- {{{scalar}: 1}}\n"
    assert _same(ours(text), yaml.safe_load(text))


def test_spotlight_values() -> None:
    data = ours("a: yes\nb: off\nc: 1e3\nd: 010\ne: 1:00:00\nf: 1.0e+3\ng: 0x10\nh: ~\ni: 1.0e3\n")
    assert data == {
        "a": True, "b": False, "c": "1e3", "d": 8, "e": 3600, "f": 1000.0, "g": 16, "h": None, "i": "1.0e3",
    }
    assert isinstance(data["c"], str)  # YAML 1.1 floats need a dot *and* a signed exponent
    assert isinstance(data["e"], SexagesimalInt) and data["e"].text == "1:00:00"


@pytest.mark.parametrize(
    "text",
    [
        "s1: '1e3'\ns2: \"yes\"\ns3: 'on'\ns4: \"01:00:00\"\n",
        "block: |\n  line one\n  yes\nfolded: >\n  a\n  b\n",
        "folded: >\n  one\n  two\n\n  three\n    indented\n  four\nkeep: >+\n  x\n  y\n\nstrip: >-\n  p\n  q\n",
        "- >\n  --gres=gpu:1\n  --exclusive\n- |-\n  module load x\n  module load y\n",
        "flow: {a: 1, b: [yes, no, 1:00], c: 'x'}\n",
        "nested:\n  - - 1\n    - off\n  - {k: ~}\n",
        "base: &b {a: 1, b: 2}\nderived:\n  <<: *b\n  b: 3\n",
        "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  w: 0\n",
        "list: &l [1, 2]\ncopy: *l\n",
        "yes: 1\n1: 2\n1.5: 3\n~: 4\n",
        "t1: !!str 123\nt2: !!int '12'\nt3: !!float 1\nt4: !!bool yes\nt5: !!null ''\nt6: !!binary aGVsbG8=\n",
        "anchored: &x !!str 1:00:00\n",
        "# only a comment\n- a\n- b # trailing\n",
        "---\n- one\n...\n",
        "- 'it''s'\n- \"tab\\there\"\n- \"\\u00e9\"\n",
        "a: ! 123\n",
        "a: [!!str 1, 2, !!int \"3\"]\n",
        "a: !!str\n  123\n",
        "a: &x !!float 1\nb: *x\n",
        "? complex\n: 1\n",
        "a: !<tag:yaml.org,2002:str> 12\n",
        "a: \"multi\n  line\"\n",
        "a: plain\n  continued yes\n",
        "\ufeff- project: p\n",
        "- a\r\n- b: c\r\n",
        "%YAML 1.1\n---\n- x: 1.0\n",
    ],
)
def test_documents_match_pyyaml(text: str) -> None:
    assert _same(ours(text), yaml.safe_load(text))


def test_empty_document_is_none() -> None:
    assert ours("") is None
    assert ours("# nothing\n") is None


def test_positions_are_one_based_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("- project: p\n- clusters:\n    c:\n      type: local\n")
    doc = load_yaml_file(path)
    assert isinstance(doc, YamlDocument)
    assert doc.positions[(0,)] == (1, 3)
    assert doc.positions[(0, "project")] == (1, 3)
    assert doc.positions[(1, "clusters", "c", "type")] == (4, 7)
    loc = doc.locate((1, "clusters", "c", "type", "deeper", 3))
    assert (loc.path, loc.line, loc.column) == (str(path), 4, 7)


def test_unsupported_tag_is_an_error_with_position() -> None:
    with pytest.raises(ConfigFileError) as info:
        ours("a: 1\nb: !python/object:os.system x\n")
    assert info.value.location is not None
    assert (info.value.location.line, info.value.location.column) == (2, 4)
    assert "tag" in str(info.value)


def test_local_tag_is_refused() -> None:
    with pytest.raises(ConfigFileError, match="tag"):
        ours("a: !custom 1\n")


def test_invalid_tagged_value() -> None:
    with pytest.raises(ConfigFileError, match="not a valid int"):
        ours("a: !!int abc\n")


@pytest.mark.parametrize(
    "text, line",
    [
        ("- project: p\n- cluster: [a\n", 2),  # unclosed flow sequence (reported where it opens)
        ("- project: p\n  - cluster: c\n", 2),  # bad indentation
        ("a: 1\na: : 2\n", 2),
        ("- 'unterminated\n", 1),  # reported where the quote opens
        ("a: [1, 2\nb: 3\n", 1),
        ("---\n- a\n---\n- b\n", 3),  # two documents
        ("- a\n-\tb\n", 2),  # a tab
    ],
)
def test_malformed_yaml_names_file_line_column(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "seamless.yaml"
    path.write_text(text)
    with pytest.raises(ConfigFileError) as info:
        load_yaml_file(path)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, ConfigurationError)
    assert err.location is not None
    assert err.location.path == str(path)
    assert err.location.line == line
    assert err.location.column is not None
    assert str(path) in str(err) and "malformed YAML" in str(err)


@pytest.mark.parametrize("text, line", [("a: 1\na: 2\n", 2), ("- {project: a, project: b}\n", 1)])
def test_duplicate_keys_are_errors(text: str, line: int) -> None:
    # PyYAML silently kept the last one; a repeated key is nearly always a mistake.
    with pytest.raises(ConfigFileError, match="duplicate key") as info:
        ours(text)
    assert info.value.location is not None and info.value.location.line == line


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(ConfigFileError, match="recursive"):
        ours("a: &a [*a]\n")


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "seamless.yaml"
    path.write_bytes(b"- project: \xff\xfe\n")
    with pytest.raises(ConfigFileError, match="UTF-8") as info:
        load_yaml_file(path)
    assert info.value.location is not None and info.value.location.path == str(path)


def test_unmergeable_merge_key() -> None:
    with pytest.raises(ConfigFileError, match="merge"):
        ours("a:\n  <<: 3\n")
