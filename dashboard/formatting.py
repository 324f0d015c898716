"""Pure display rules shared by every page: band and severity wording, colours, ages and ward-local times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

# RCP chart colours, darkened or lightened so that the text on them passes WCAG AA (4.5:1).
BAND_STYLE: dict[str, tuple[str, str, str]] = {
    # band: (label, background, text colour)
    "high": ("High", "#b71c1c", "#ffffff"),
    "medium": ("Medium", "#bf4000", "#ffffff"),
    "low-medium": ("Low-medium", "#fff176", "#1a1a1a"),
    "low": ("Low", "#e8f5e9", "#1a1a1a"),
}
NO_BAND = ("No score", "#eceff1", "#1a1a1a")

SEVERITY_NAMES = {0: "Info", 1: "Low", 2: "Medium", 3: "High"}
# Badge backgrounds under white text, each at least 4.5:1; the badge also carries a shape and a word.
SEVERITY_COLOURS = {0: "#4a4a4a", 1: "#1c3faa", 2: "#8a3300", 3: "#b71c1c"}


DEVICE_KINDS = {
    "patch": "Wearable patch",
    "oximeter": "Pulse oximeter",
    "bp_cuff": "Blood pressure cuff",
    "thermometer": "Thermometer",
    "scale": "Scale",
    "patient_app": "Patient app",
}


def device_kind(kind: str) -> str:
    """A device kind as people say it ("Blood pressure cuff", not bp_cuff); an unknown kind as sent."""
    return DEVICE_KINDS.get(kind, kind)


def band_label(band: str | None) -> str:
    return BAND_STYLE.get(band or "", NO_BAND)[0]


def severity_name(severity: int | None) -> str:
    return "" if severity is None else SEVERITY_NAMES.get(severity, str(severity))


def parse_time(value: str | datetime | None) -> datetime | None:
    """API times arrive as ISO 8601 strings; the figures and ages need datetimes."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def duration(minutes: float) -> str:
    """'38 min', '2 h 5 min', '3 d': an age a nurse reads at a glance."""
    whole = int(minutes)
    if whole < 1:
        return "under 1 min"
    if whole < 60:
        return f"{whole} min"
    if whole < 24 * 60:
        return f"{whole // 60} h {whole % 60} min"
    return f"{whole // (24 * 60)} d"


def ago(then: str | datetime | None, now: datetime) -> str:
    """'12 min ago': how long a nurse has been waiting on something, at a glance."""
    moment = parse_time(then)
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "just now"
    return f"{duration(seconds / 60)} ago"


DAY_TIME = "%d %b %H:%M"


def local_time(value: str | datetime | None, tz: str, fmt: str = "%H:%M") -> str:
    """A time in the ward's time zone, as the ward reads its clocks."""
    moment = parse_time(value)
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(tz)).strftime(fmt)


# Metric names as a ward writes them (the wire's names are for machines: spo2, systolic_bp).
METRIC_LABELS = {
    "heart_rate": "Heart rate",
    "respiratory_rate": "Respiratory rate",
    "spo2": "SpO2",
    "temperature": "Temperature",
    "systolic_bp": "Systolic BP",
    "diastolic_bp": "Diastolic BP",
    "weight": "Weight",
    "glucose": "Glucose",
    "on_oxygen": "Air or oxygen",
    "consciousness": "ACVPU",
    "patient_concern": "Patient concern",
}


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric.replace("_", " ").capitalize())
