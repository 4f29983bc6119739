"""Spelling suggestions for error messages ("did you mean 'cluster'?")."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: object, candidates: Iterable[str]) -> str:
    """`` — did you mean 'x'?`` for the closest candidate, or a list of valid choices."""
    options = sorted(candidates)
    if isinstance(word, str):
        close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
        if close:
            return f" — did you mean '{close[0]}'?"
    return " (valid: " + ", ".join(options) + ")"
