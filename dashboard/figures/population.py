"""The population page's plots: each ward's daily census with its admissions and ends, and its outcomes."""

from __future__ import annotations

import plotly.graph_objects as go

from vward.contract.population import Population


def census_figure(figures: Population) -> go.Figure:
    """Patients on each ward per day (a line), admissions (bars up) and ends of stay (bars down)."""
    fig = go.Figure()
    for ward in sorted({d.ward for d in figures.daily}):
        days = [d for d in figures.daily if d.ward == ward]
        fig.add_scatter(x=[d.day for d in days], y=[d.census for d in days], name=f"{ward}: patients", mode="lines")
        fig.add_bar(x=[d.day for d in days], y=[d.admissions for d in days], name=f"{ward}: admitted", opacity=0.6)
        fig.add_bar(x=[d.day for d in days], y=[-d.discharges for d in days], name=f"{ward}: ended", opacity=0.6)
    fig.update_layout(
        title="Census per day (ward time)",
        barmode="relative",
        height=340,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        yaxis_title="patients",
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def outcomes_figure(figures: Population) -> go.Figure:
    """How each ward's stays ended in the period, stacked."""
    wards = [w.ward for w in figures.wards]
    fig = go.Figure()
    for label, counts in (
        ("completed", [w.discharges - w.escalations - w.deaths - w.self_discharges for w in figures.wards]),
        ("escalated to hospital", [w.escalations for w in figures.wards]),
        ("self-discharged", [w.self_discharges for w in figures.wards]),
        ("died", [w.deaths for w in figures.wards]),
    ):
        fig.add_bar(x=wards, y=counts, name=label)
    fig.update_layout(
        title="How stays ended",
        barmode="stack",
        height=340,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        yaxis_title="stays",
        xaxis={"type": "category"},
    )
    return fig
