"""Colours: the plotly template a chart draws with, and one colour per configuration.

Every chart of a comparison takes a configuration's colour from :func:`config_colors`, so
``sim/small · guided`` is the same colour in the cost-vs-quality chart, the latency chart, the
forest plot and the report's table swatches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workbench.errors import ConfigError
from workbench.runner import Comparison

Template = Any  # a plotly template name, a Template object, or None for plotly's default

Config = tuple[str, str]

OUTCOME_NEUTRAL = "rgba(127, 127, 127, 0.55)"
"""Ties and other neutral marks: a grey that reads on light and dark backgrounds."""


def _template(template: Template) -> Any:
    import plotly.io as pio

    if template is None:
        template = pio.templates.default
    if isinstance(template, str):
        names = [t for t in template.split("+") if t]
        unknown = [t for t in names if t not in pio.templates]
        if unknown:
            raise ConfigError(f"unknown plotly template {unknown[0]!r}",
                              fix=f"Use one of: {', '.join(pio.templates)}.")
        return pio.templates[names[-1]] if len(names) == 1 else pio.templates.merge_templates(
            *[pio.templates[n] for n in names])
    return template


def _colorway(template: Any) -> list[str]:
    way = list(template.layout.colorway or ())
    return way or ["#636efa", "#EF553B", "#00cc96"]  # plotly's own default when a template has none


def _diverging(template: Any) -> Any:
    scale = template.layout.colorscale.diverging if template.layout.colorscale else None
    return scale or "RdBu"


def _ends(scale: Any) -> tuple[str, str]:
    """The first and last colour of a colour scale (a name or a list of [position, colour])."""
    import plotly.colors as pc

    if isinstance(scale, str):
        colours = pc.get_colorscale(scale)
    else:
        colours = [list(step) for step in scale]
    return str(colours[0][1]), str(colours[-1][1])


def config_label(config: Config) -> str:
    """How charts and tables name a configuration: ``model · variant``.

    Example:
        >>> config_label(("sim/small", "guided"))
        'sim/small · guided'
    """
    return f"{config[0]} · {config[1]}"


def config_colors(configs: Comparison | Iterable[Config], *, template: Template = None
                  ) -> dict[Config, str]:
    """One colour per configuration, the same in every chart, table swatch and report.

    Configurations are sorted by (model, variant) and take the template's colours in turn, so
    a configuration keeps its colour however the results are ordered (a comparison loaded back
    from MLflow draws like the one that was logged). Past the template's colours, plotly's
    24-colour qualitative palettes continue, so no two configurations share a colour.

    Args:
        configs: a comparison (its configurations) or (model, variant) pairs.
        template: a plotly template name or object (default: plotly's current default).

    Example:
        >>> colours = config_colors([("sim/small", "guided"), ("sim/large", "guided")],
        ...                         template="plotly")
        >>> colours[("sim/large", "guided")], colours[("sim/small", "guided")]
        ('#636efa', '#EF553B')
    """
    import plotly.colors as pc

    if isinstance(configs, Comparison):
        pairs = set(configs.configs)
    else:
        pairs = {(str(m), str(v)) for m, v in configs}
    ordered = sorted(pairs)
    way = _colorway(_template(template))
    more = [c for c in [*pc.qualitative.Dark24, *pc.qualitative.Light24]
            if c.lower() not in {w.lower() for w in way}]
    palette = way + more
    return {cfg: palette[i % len(palette)] for i, cfg in enumerate(ordered)}
