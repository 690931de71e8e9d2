"""Bar plots as inline SVG, drawn on the server: no script and no style attribute, so the
page's Content-Security-Policy allows them and they show without JavaScript."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
WIDTH, HEIGHT, PAD = 720, 180, 24


def stacked_bars(days: Sequence[str], series: Mapping[str, Mapping[str, int]]) -> Markup:
    """One bar per day, stacked by series (a watch), with a legend; days are YYYY-MM-DD."""
    names = sorted(series)
    totals = [sum(series[n].get(d, 0) for n in names) for d in days]
    top = max(totals, default=0) or 1
    step = (WIDTH - 2 * PAD) / max(len(days), 1)
    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {w} {h}" '
            'role="img" aria-label="alerts per day">'
        ).format(w=WIDTH, h=HEIGHT + 40 + 14 * max(0, (min(len(names), 12) - 1) // 4))
    ]
    for i, day in enumerate(days):
        y = float(HEIGHT)
        for j, name in enumerate(names):
            count = series[name].get(day, 0)
            if not count:
                continue
            height = (HEIGHT - PAD) * count / top
            y -= height
            parts.append(
                Markup(
                    '<rect x="{x:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{bh:.1f}" '
                    'fill="{c}"><title>{day} {name}: {n}</title></rect>'
                ).format(
                    x=PAD + i * step,
                    y=y,
                    bw=max(step - 2, 1),
                    bh=height,
                    c=COLOURS[j % len(COLOURS)],
                    day=day,
                    name=name,
                    n=count,
                )
            )
    parts.append(
        Markup('<text x="{x}" y="{y}" font-size="11">{label}</text>').format(
            x=PAD, y=PAD - 8, label=f"max {top} per day"
        )
    )
    if days:
        for i in (0, len(days) - 1):
            parts.append(
                Markup('<text x="{x:.1f}" y="{y}" font-size="11">{d}</text>').format(
                    x=PAD + i * step - (60 if i else 0), y=HEIGHT + 14, d=days[i][5:]
                )
            )
    for j, name in enumerate(names[:12]):
        x = PAD + (j % 4) * 170
        y = HEIGHT + 28 + (j // 4) * 14
        parts.append(
            Markup(
                '<rect x="{x}" y="{y}" width="10" height="10" fill="{c}"></rect>'
                '<text x="{tx}" y="{ty}" font-size="11">{name}</text>'
            ).format(x=x, y=y - 9, c=COLOURS[j % len(COLOURS)], tx=x + 14, ty=y, name=escape(name))
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
