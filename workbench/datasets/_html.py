"""Notebook rendering of a golden set (``GoldenSet._repr_html_``), escaped by Jinja2."""

from __future__ import annotations

from ._canonical import to_python
from ._view import GoldenSetView

_TEMPLATE = """
<div class="workbench-goldenset">
  <strong>GoldenSet {{ name }}</strong> — {{ rows }} cases · version {{ version }}
  · <code title="{{ digest }}">{{ digest[:19] }}…</code>
  {% if description %}<div>{{ description }}</div>{% endif %}
  <div>inputs: {{ inputs | join(", ") }}{% if has_expected %} · expected answers{% endif %}</div>
  {% if slices %}
  <table>
    <thead><tr><th>slice</th><th>values (cases)</th></tr></thead>
    <tbody>
    {% for slice, counts in slices.items() %}
      <tr><td>{{ slice }}{% if slice in routable %} <em>(routable)</em>{% endif %}</td>
          <td>{% for value, n in counts.items() -%}
            {{ value }} ({{ n }}){% if not loop.last %}, {% endif %}
          {%- endfor %}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% endif %}
  <table>
    <thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
    <tbody>
    {% for row in head %}
      <tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
    {% endfor %}
    </tbody>
  </table>
  {% if rows > head | length %}<div>… {{ rows - head | length }} more cases</div>{% endif %}
</div>
"""


def _cell(value: object, width: int = 80) -> str:
    value = to_python(value)
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def golden_set_html(gs: GoldenSetView, head: int = 5) -> str:
    """Render size, digest, slice counts and the first rows as HTML (all values escaped)."""
    from jinja2 import Environment

    env = Environment(autoescape=True)
    df = gs._df
    return env.from_string(_TEMPLATE).render(
        name=gs.name,
        rows=len(gs),
        version=gs.version,
        digest=gs.digest,
        description=gs.description,
        inputs=gs.input_columns,
        has_expected="expected" in df.columns,
        slices=gs.slice_counts(),
        routable=gs.routable,
        columns=list(df.columns),
        head=[[_cell(v) for v in row] for row in df.head(head).itertuples(index=False)],
    )
