"""What the dashboard does when a callback fails: say so on the page and log it, without patient data.

Dash answers a failed callback with a 500 and leaves the panel as it was, often blank, so a nurse could not
tell "nothing to show" from "broken". Every callback error now shows a banner with a reference, and the
server log gets the same reference with the error's type and where it was raised: never its message or
values, which can carry patient data."""

from __future__ import annotations

import logging
import traceback
import uuid
from pathlib import Path
from typing import Any

import dash_mantine_components as dmc
from dash import callback_context, set_props

log = logging.getLogger(__name__)
BANNER_ID = "callback-error"


def reference() -> str:
    return uuid.uuid4().hex[:12]


def where(err: BaseException) -> str:
    """'patient.py:212 in load': the innermost frame of our own code (a library's frame says little), by file
    name only."""
    frames = traceback.extract_tb(err.__traceback__)
    if not frames:
        return "unknown"
    ours = [f for f in frames if "site-packages" not in f.filename]
    last = (ours or frames)[-1]
    return f"{Path(last.filename).name}:{last.lineno} in {last.name}"


def log_failure(panel: str, err: BaseException) -> str:
    """Log a failure with a fresh reference and return it for the page to show."""
    ref = reference()
    log.error("dashboard %s failed: %s at %s (ref %s)", panel, type(err).__name__, where(err), ref)
    return ref


def failure_notice(title: str, ref: str) -> Any:
    return dmc.Alert(
        f"This could not be shown because of an error (reference {ref}); it has been logged. "
        "Reload the page to try again, and report the reference if it persists.",
        title=title,
        color="red",
        className="panel-error",
    )


def on_callback_error(err: Exception) -> None:
    """Dash's app-wide `on_error`: any callback that raised shows the banner; its outputs stay unchanged."""
    outputs = callback_context.outputs_list
    first = outputs[0] if isinstance(outputs, list) and outputs else outputs
    panel = str(first.get("id", "callback")) if isinstance(first, dict) else "callback"
    ref = log_failure(panel, err)
    set_props(BANNER_ID, {"children": failure_notice("Part of this page is not available", ref)})
