"""Which page a path shows and who may see it: the page router's rules, kept pure so they are tested."""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "/dash"
CLINICAL = frozenset({"clinician", "admin", "viewer"})
OPS = frozenset({"ops", "admin"})
ADMISSIONS = frozenset({"clinician", "admin"})


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    link: str  # after the /dash prefix
    label: str
    roles: frozenset[str]
    pattern: str = ""  # a regular expression for paths with parameters; else the link itself
    in_nav: bool = True

    def matches(self, path: str) -> re.Match[str] | None:
        return re.fullmatch(self.pattern or re.escape(self.link), path)


PAGES: tuple[Page, ...] = (
    Page("worklist", "/", "Worklist", CLINICAL),
    Page("patient", "/patients", "Patient", CLINICAL, pattern=r"/patients/(?P<id>\d{1,18})", in_nav=False),
    Page("alerts", "/alerts", "Alert inbox", CLINICAL),
    Page("admissions", "/admissions", "Admissions", ADMISSIONS),
    Page("rules", "/rules", "Rule sets", OPS),
    Page("burden", "/burden", "Alert burden", OPS),
    Page("data_quality", "/data-quality", "Data quality", OPS),
    Page("population", "/population", "Population", CLINICAL | OPS),
)
HOME_BY_ROLE = {"ops": "/rules"}


@dataclass(frozen=True, slots=True)
class Route:
    """What to show; `denied` says why a known page is refused (never just a blank screen)."""

    page: str
    patient_id: int | None = None
    denied: str | None = None


def href(path: str) -> str:
    return f"{PREFIX}{path}"


def nav_pages(role: str) -> list[Page]:
    return [p for p in PAGES if p.in_nav and role in p.roles]


def resolve(pathname: str | None, role: str) -> Route:
    """The page for a URL and role: unknown paths are 'not_found', pages outside the role are denied."""
    path = (pathname or PREFIX)[len(PREFIX) :] if (pathname or "").startswith(PREFIX) else "/"
    if path in ("", "/") and role in HOME_BY_ROLE:
        path = HOME_BY_ROLE[role]
    for page in PAGES:
        match = page.matches(path.rstrip("/") or "/")
        if match is None:
            continue
        if role not in page.roles:
            return Route(page.name, denied=f"The {page.label} page is not available to the {role} role.")
        patient_id = int(match.group("id")) if "id" in match.groupdict() else None
        return Route(page.name, patient_id=patient_id)
    return Route("not_found")
