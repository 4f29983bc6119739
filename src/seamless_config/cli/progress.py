"""A live per-service progress display for terminals: one line per service, phase and elapsed time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TextIO

import anyio

_DONE = ("ready", "failed", "skipped")


@dataclass
class _Line:
    phase: str = "waiting"
    detail: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None


class LiveProgress:
    """Redraws its lines in place (ANSI cursor movement); use only on a TTY."""

    def __init__(self, services: tuple[str, ...], stream: TextIO) -> None:
        self.lines = {name: _Line() for name in services}
        self.stream = stream
        self.drawn = 0

    def __call__(self, service: str, phase: str, detail: str) -> None:
        line = self.lines.setdefault(service, _Line())
        line.phase, line.detail = phase, detail
        if phase in _DONE and line.finished is None:
            line.finished = time.monotonic()
        self.draw()

    def draw(self) -> None:
        out = []
        if self.drawn:
            out.append(f"\x1b[{self.drawn}F")
        now = time.monotonic()
        for name, line in self.lines.items():
            elapsed = (line.finished or now) - line.started
            mark = {"ready": "\x1b[32m✔\x1b[0m", "failed": "\x1b[31m✘\x1b[0m", "skipped": "-"}.get(line.phase, "…")
            detail = line.detail if len(line.detail) < 60 else line.detail[:57] + "..."
            out.append(f"\x1b[2K {mark} {name:<16} {line.phase:<16} {elapsed:5.1f}s  {detail}\n")
        self.drawn = len(self.lines)
        self.stream.write("".join(out))
        self.stream.flush()

    async def tick(self, interval: float = 0.1) -> None:
        """Keep elapsed times moving while services start (cancel when done)."""
        while True:
            await anyio.sleep(interval)
            self.draw()
