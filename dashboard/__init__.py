"""Triage dashboard: Dash pages on the FastAPI app, reading through the REST API."""
