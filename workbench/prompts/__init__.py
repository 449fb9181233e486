"""Prompt variants: sandboxed Jinja2 templates checked against a golden set before any call.

Rendering is bounded by :class:`RenderLimits` (time, output size, ``range``, call nesting).

Example:
    >>> from workbench.prompts import PromptVariant
    >>> v = PromptVariant("terse", user="Classify: {{ message }}")
    >>> v.render({"message": "refund please"})[-1]["content"]
    'Classify: refund please'
"""

from ._sandbox import RenderLimits
from ._variant import PromptVariant

__all__ = ["PromptVariant", "RenderLimits"]
