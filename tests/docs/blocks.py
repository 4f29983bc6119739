"""The fenced blocks of docs/*.md, as values: page, line, language, mark and body.

A fence opens with ```LANG on a line of its own, possibly indented or inside a blockquote (``> ```python``);
the body lines lose that prefix. The HTML comment on the line just before a fence is its mark:

- ``<!-- example: run -->``                python, run on its own (cwd: the repository)
- ``<!-- example: ID -->``                 run by the test that handles ID (tests/docs/test_docs_live.py)
- ``<!-- example: broken -->``             a YAML file that must be refused (with the text block after it)
- ``<!-- example: fragment -->``           YAML: part of a file, parsed only
- ``<!-- example: skip (REASON) -->``      not run, and REASON says why (the set is kept tiny)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
_OPEN = re.compile(r"^(?P<prefix>[ >]*)```(?P<lang>[\w-]*)\s*$")
_MARK = re.compile(r"^[ >]*<!-- example: (?P<mark>.*?) -->\s*$")
_SKIP = re.compile(r"skip \((?P<reason>.+)\)")
# Languages that are code (a command, a program or a file a user writes); 'text' is output or a drawing.
CODE = ("python", "yaml", "json", "console", "bash", "sh")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    mark: str | None
    body: str
    index: int  # position among the blocks of its page

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        m = _SKIP.fullmatch(self.mark or "")
        return m["reason"] if m else None

    @property
    def first_comment(self) -> str:
        """The text of a leading '# ...' comment line (a YAML block names its file this way)."""
        first = self.body.splitlines()[0] if self.body else ""
        return first[1:].strip() if first.startswith("#") else ""


def parse(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if m is None:
            i += 1
            continue
        prefix, start = m["prefix"], i
        mark = _MARK.match(lines[i - 1]) if i > 0 else None
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].rstrip() != prefix + "```" and lines[i].strip(" >") != "```":
            line = lines[i]
            body.append(line[len(prefix):] if line.startswith(prefix) else line.lstrip(" >"))
            i += 1
        blocks.append(Block(page.name, start + 1, m["lang"], mark["mark"] if mark else None, "\n".join(body),
                            len(blocks)))
        i += 1
    return blocks


def all_blocks() -> list[Block]:
    return [b for page in sorted(DOCS.glob("*.md")) for b in parse(page)]


def page_blocks(page: str) -> list[Block]:
    return parse(DOCS / page)
