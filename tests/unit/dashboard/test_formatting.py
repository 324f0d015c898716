"""Display rules: ages, ward-local times and band wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard.formatting import BAND_STYLE, SEVERITY_COLOURS, ago, band_label, local_time, severity_name

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def test_ages_read_as_a_nurse_would_say_them() -> None:
    assert ago(None, NOW) == "never"
    assert ago(NOW - timedelta(seconds=20), NOW) == "just now"
    assert ago(NOW - timedelta(minutes=12), NOW) == "12 min ago"
    assert ago((NOW - timedelta(hours=2, minutes=5)).isoformat(), NOW) == "2 h 5 min ago"
    assert ago(NOW - timedelta(days=3), NOW) == "3 d ago"
    assert ago(NOW + timedelta(minutes=5), NOW) == "in the future"


def test_times_are_shown_in_the_wards_time_zone() -> None:
    assert local_time(NOW, "Europe/London") == "13:00"  # BST in July
    assert local_time("2026-01-15T09:30:00+00:00", "Europe/London") == "09:30"
    assert local_time(NOW, "America/New_York", "%d %b %H:%M") == "01 Jul 08:00"
    assert local_time(None, "Europe/London") == ""


def test_every_band_has_words_not_only_a_colour() -> None:
    assert [band_label(b) for b in ("high", "medium", "low-medium", "low", None)] == [
        "High",
        "Medium",
        "Low-medium",
        "Low",
        "No score",
    ]
    assert severity_name(3) == "High"
    assert severity_name(None) == ""


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_band_colours_pass_wcag_aa_contrast() -> None:
    for band, (_, background, text) in BAND_STYLE.items():
        light, dark = sorted((_luminance(background), _luminance(text)), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, band


def test_severity_badges_pass_wcag_aa_contrast_under_white_text() -> None:
    for severity, background in SEVERITY_COLOURS.items():
        assert (1.05) / (_luminance(background) + 0.05) >= 4.5, severity
