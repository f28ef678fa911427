"""Time arguments as Robot Framework reads them: ``2s``, ``500 ms``, ``1 min 30 s``, ``1.5``.

Keyword arguments that are a duration (``timeout``, ``settle``, ``seconds``, ``delay``) are
annotated :data:`Timeout` and read with :func:`secs`, so every keyword takes what
Robot's own ``[Timeout]`` and ``Sleep`` take.
"""

from __future__ import annotations

from typing import Union

from robot.utils import timestr_to_secs

# Robot leaves a string argument as it is for ``str | float`` (and a number from Python
# code too): secs() reads either.
Timeout = Union[str, float]


def secs(value: Timeout) -> float:
    """Seconds from a Robot time string or a number."""
    return float(timestr_to_secs(value))
