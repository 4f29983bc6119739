"""Intended value divergences from seamless-config 0.3.2, shared by the tests that compare with it.

Each entry turns a value the reference produced into the value we produce on purpose; a test
that compares with the reference applies it to the reference's side only, so any other
difference still fails. (Error-side divergences are listed in tests/differential's INTENDED.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _drop_exclusive_job_cores(value: Any) -> Any:
    """``exclusive: true`` + ``cores: N``: 0.3.2 also sent ``job_cores: N``, which seamless-dask
    0.4's wrapper refuses ("Parameter 'job_cores' must not be set in exclusive mode"); the wrapper
    derives the job's cores from ``cores`` itself, so we leave ``job_cores`` out."""
    if isinstance(value, dict):
        out = {k: _drop_exclusive_job_cores(v) for k, v in value.items()}
        if out.get("exclusive") is True and "job_cores" in out and out["job_cores"] == out.get("cores"):
            del out["job_cores"]
        return out
    if isinstance(value, list):
        return [_drop_exclusive_job_cores(v) for v in value]
    return value


INTENDED_VALUES: list[tuple[Callable[[Any], Any], str]] = [
    (_drop_exclusive_job_cores,
     "exclusive + cores: no job_cores is sent (seamless-dask 0.4 refuses job_cores in exclusive mode and "
     "derives the job's cores from 'cores'; 0.3.2's job_cores = cores made the daskserver fail at start-up)"),
]


def reference_as_intended(value: Any) -> Any:
    """The reference's value with every intended divergence applied."""
    for transform, _why in INTENDED_VALUES:
        value = transform(value)
    return value


def excused_value(ref: Any, ours: Any) -> str | None:
    """Why *ours* differs from *ref* on purpose, or ``None`` if the difference is not intended."""
    for transform, why in INTENDED_VALUES:
        if transform(ref) == ours:
            return why
    if reference_as_intended(ref) == ours:
        return "; ".join(why for _transform, why in INTENDED_VALUES)
    return None
