"""Who is acting: the authenticated principal every audit row and alert event names."""

from __future__ import annotations

from dataclasses import dataclass

from vward.domain.alerts import Role


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user (or a named system actor such as `rules-worker`)."""

    username: str
    role: Role
    wards: tuple[str, ...] = ()  # empty: every ward
    break_glass: str | None = None  # the stated reason for emergency access beyond `wards`

    def may_see_ward(self, ward: str) -> bool:
        return self.holds_ward(ward) or self.break_glass is not None

    def holds_ward(self, ward: str) -> bool:
        """May act (write) in the ward: emergency access (break glass) reads beyond `wards`, never writes."""
        return not self.wards or ward in self.wards


SYSTEM = Principal(username="system", role=Role.ADMIN)
