"""The validation page: one self-contained HTML file (no network, no JavaScript needed), a table of
every case and one chart per case (inline SVG)."""

from __future__ import annotations

import io
from pathlib import Path

from jinja2 import Environment, select_autoescape

from iadsim.validation.cases import MEASURES
from iadsim.validation.runner import CaseResult

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>iadsim validation</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.pass{color:#1a7f37;font-weight:600}.FAIL{color:#c00;font-weight:700}.known{color:#9a6700;font-weight:600}
.case{border-top:2px solid #ddd;margin-top:2em;padding-top:1em}figure{margin:0}
small{color:#555}
</style></head><body>
<h1>iadsim validation suite</h1>
<p>Each case is a public historical outcome, rebuilt as a scenario from the public record and run
through the same pipeline as any other scenario. A case passes when the simulated measure lands in its
band (and, where asked, varies across variants by no more than the stated spread); a negative control
passes when the model does <em>not</em> reproduce the pattern. A case the model cannot reproduce yet
stays in the suite as a <em>known failure</em>, with the reason.</p>
<p>{{ counts['pass'] }} pass, {{ counts['FAIL'] }} fail, {{ counts['known failure'] }} known failure(s),
{{ counts['unexpected pass'] }} unexpected pass(es).</p>
<table><tr><th>case</th><th>measure</th><th>variant</th><th>observed</th><th>simulated (95% CI)</th>
<th>band</th><th>in band</th><th>result</th></tr>
{% for r in results %}{% for v in r.variants %}<tr>
{% if loop.first %}<td rowspan="{{ r.variants|length }}"><a href="#{{ r.name }}">{{ r.name }}</a></td>
<td rowspan="{{ r.variants|length }}">{{ r.measure }}</td>{% endif %}
<td>{{ v.label }}</td><td>{{ '%.3f'|format(v.observed) if v.observed is not none else '–' }}</td>
<td>{{ '%.3f'|format(v.simulated) }} ({{ '%.3f'|format(v.ci_low) }}–{{ '%.3f'|format(v.ci_high) }})</td>
<td>{{ '%.2f'|format(r.band[0]) }}–{{ '%.2f'|format(r.band[1]) }}</td><td>{{ 'yes' if v.inside else 'no' }}</td>
{% if loop.first %}<td rowspan="{{ r.variants|length }}" class="{{ 'known' if r.known_failure else r.status }}">{{ r.status }}</td>{% endif %}
</tr>{% endfor %}{% endfor %}</table>
{% for r in results %}<div class="case" id="{{ r.name }}">
<h2>{{ r.title }} <small>({{ r.name }}: <span class="{{ 'known' if r.known_failure else r.status }}">{{ r.status }}</span>)</small></h2>
<p>{{ r.summary }}</p>
<figure>{{ charts[r.name]|safe }}</figure>
<p><b>Measure:</b> {{ measures[r.measure] }}. <b>Expectation:</b>
{{ 'inside the band' if r.expect == 'inside' else 'negative control: the model must not reproduce the pattern' }}
{% if r.max_spread is not none %}(spread across variants at most {{ '%.2f'|format(r.max_spread) }}; simulated {{ '%.3f'|format(r.spread) }}){% endif %}.
{{ r.replications }} replications per variant, seed {{ r.seed }}.</p>
<p><b>Why this band:</b> {{ r.why }}</p>
{% if r.known_failure %}<p class="known"><b>Known failure:</b> {{ r.known_failure }}</p>{% endif %}
<p><b>Observed:</b></p><ul>{% for o in r.observed %}<li>{{ o.label }}: {{ o.launched }} launched,
{% if o.destroyed is not none %}{{ o.destroyed }} destroyed{% endif %}{% if o.reached_target is not none %}{{ o.reached_target }} reached the target{% endif %}
({{ '%.3f'|format(o.fraction) }})</li>{% endfor %}</ul>
<p><b>Sources:</b></p><ul>{% for s in r.sources %}<li>{{ s.publisher }}, {{ s.date }}: {{ s.title }}{% if s.url %} <code>{{ s.url }}</code>{% endif %}{% if s.note %} — {{ s.note }}{% endif %}</li>{% endfor %}</ul>
{% if r.notional %}<p><b>Notional (the record is silent):</b></p><ul>{% for n in r.notional %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
<p><b>What the case leaves out:</b></p><ul>{% for n in r.leaves_out %}<li>{{ n }}</li>{% endfor %}</ul>
</div>{% endfor %}
</body></html>
"""


def case_chart_svg(r: CaseResult) -> str:
    """Observed values, the band and the simulated values (95% intervals) per variant, as SVG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.2), dpi=96)
    ax = fig.add_subplot()
    x = list(range(len(r.variants)))
    ax.axhspan(r.band[0], r.band[1], color="#1a7f37", alpha=0.12, label="band")
    sim = [v.simulated for v in r.variants]
    err = [[v.simulated - v.ci_low for v in r.variants], [v.ci_high - v.simulated for v in r.variants]]
    ax.errorbar(x, sim, yerr=err, fmt="o", color="#1f77b4", capsize=3, label="simulated (95% CI)")
    ox = [i for i, v in enumerate(r.variants) if v.observed is not None]
    if ox:
        ax.plot(ox, [r.variants[i].observed for i in ox], "D", color="k", label="observed")
    ax.set_xticks(x, [v.label for v in r.variants], fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel(r.measure.replace("_", " "))
    ax.set_title(f"{r.name}: {r.status}", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def render_page(results: list[CaseResult]) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "FAIL", "known failure", "unexpected pass")}
    return env.from_string(_TEMPLATE).render(
        results=results, counts=counts, measures=MEASURES, charts={r.name: case_chart_svg(r) for r in results})


def write_page(results: list[CaseResult], path: str | Path) -> Path:
    from iadsim.results.io import write_text

    return write_text(Path(path), render_page(results))
