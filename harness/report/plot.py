"""The look every chart of the report shares, and how a chart becomes a <div> of the page.

The page loads plotly.js once (with the timeline); every other chart is a bare <div>.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

#: plotly's mode bar without its logo; the chart follows the page's width
CONFIG = {"displaylogo": False, "responsive": True}


def layout(fig: go.Figure, *, height: int, right: int = 20, top: int = 30,
           legend: dict[str, Any] | None = None, **more: Any) -> None:
    """The report's chart look: white, one hover line per x, the margins of its column.

    `right`: room for a second y axis (60); `more`: the chart's own layout (axis titles).
    """
    fig.update_layout(
        height=height, template="plotly_white", hovermode="x unified",
        margin={"l": 60, "r": right, "t": top, "b": 40},
        **({"legend": legend} if legend is not None else {}), **more,
    )


def div(fig: go.Figure, div_id: str, *, height: int | None = None, plotlyjs: bool = False,
        **look: Any) -> str:
    """`fig` as a <div id=div_id> of the page.

    With `height`, laid out first as `layout` does (`look`: its other arguments), its y
    axes from zero; without, as the caller laid it out. `plotlyjs`: the one chart that
    carries plotly.js for the page.
    """
    if height is not None:
        layout(fig, height=height, **look)
        fig.update_yaxes(rangemode="tozero")
    html: str = fig.to_html(full_html=False, include_plotlyjs=plotlyjs, config=dict(CONFIG),
                            div_id=div_id)
    return html
