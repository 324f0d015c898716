"""The API's response models, shared with the dashboard: one shape per concept at the HTTP boundary.

The API builds these and the dashboard's client parses its answers back into them, so a field renamed or
retyped on one side fails mypy or a test on the other, never a clinician's page."""
