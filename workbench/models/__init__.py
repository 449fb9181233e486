"""Models: ``ModelSpec`` (any litellm model string), pricing, and the only litellm importer.

Example:
    >>> from workbench.models import ModelSpec
    >>> spec = ModelSpec("openai/gpt-4o-mini", temperature=0, api_key_env="OPENAI_API_KEY")
    >>> spec.params()["model"]
    'openai/gpt-4o-mini'
"""

from ._spec import ModelSpec, Pricing

__all__ = ["ModelSpec", "Pricing"]
