"""Plotly figures as pure functions of API data: easy to test, no I/O."""
