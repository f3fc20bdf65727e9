"""The units of a region, read from its sites file, and the JSON view of one unit's state.

A SMUR unit is named by its SMUR base site id, a helicopter by its helicopter base site
id, a cath lab by the site id of a cath lab used as a destination. A store checks every
id it is given against this catalogue, so a typo never creates a phantom unit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from geodata.errors import InputError
from dispatch.resources.model import ResourceKind, ResourceSnapshot, ResourceState
from dispatch.timeparse import localize, parse_time


class UnitUnknown(InputError):
    """A unit id is not a site of the region for that kind (HTTP 404 on a path, 422 in a body)."""


@dataclass(frozen=True)
class UnitCatalogue:
    """The unit ids and display names of each kind, in the sites file's order, and the region's timezone for messages."""

    names: Mapping[ResourceKind, Mapping[str, str]]
    timezone: ZoneInfo | None = None

    @classmethod
    def from_region(cls, region: Any) -> UnitCatalogue:
        sites = region.sites
        return cls(
            names={
                ResourceKind.SMUR: {site.id: site.smur_base.name or site.name for site in sites.smur_bases},
                ResourceKind.HELICOPTER: {site.id: site.heli_base.name or site.name for site in sites.heli_bases},
                ResourceKind.CATH_LAB: {site.id: site.name for site in sites.cath_labs},
            },
            timezone=region.timezone,
        )

    def units(self, kind: ResourceKind) -> Mapping[str, str]:
        return self.names.get(kind, {})

    def check(self, kind: ResourceKind, unit_id: str, field: str = "unit_id") -> str:
        """Return ``unit_id`` when the region has such a unit; raise UnitUnknown listing the valid ids."""
        valid = self.units(kind)
        if unit_id not in valid:
            choices = ", ".join(valid)
            raise UnitUnknown(
                "unit_unknown",
                f"{field}: {unit_id!r} is not a {kind.value} unit of the region; valid ids: {choices}",
                field=field,
                value=unit_id,
                kind=kind.value,
                choices=choices,
            )
        return unit_id


def parse_kind(text: str, field: str = "kind") -> ResourceKind:
    """Return the ResourceKind named ``text``; raise InputError listing the kinds."""
    try:
        return ResourceKind(text)
    except ValueError:
        choices = ", ".join(kind.value for kind in ResourceKind)
        raise InputError("resource_kind_invalid", f"{field}: {text!r} is not a kind of unit; choose among {choices}", field=field, value=text, choices=choices) from None


def unit_view(snapshot: ResourceSnapshot, kind: ResourceKind, unit_id: str, name: str, at: datetime | None = None) -> dict[str, Any]:
    """Return one unit as the API and the CLI show it.

    ``state`` is the effective state (``unknown`` when unset, stale, past its ``until``
    or read from an unreachable store) and ``raw_state`` the state as last set.
    """
    record = snapshot.state(kind, unit_id)
    moment = at or snapshot.taken_at
    view: dict[str, Any] = {
        "kind": kind.value,
        "unit_id": unit_id,
        "name": name,
        "state": snapshot.effective(kind, unit_id, moment),
        "raw_state": None,
        "set_by": None,
        "set_at": None,
        "age_s": None,
        "until": None,
        "returns_to": None,
        "call_id": None,
        "version": 0,
        "stale": False,
    }
    if record is not None:
        view.update(
            raw_state=record.state,
            set_by=record.set_by,
            set_at=record.set_at.isoformat(),
            age_s=max(0, round((snapshot.taken_at - record.set_at).total_seconds())),
            until=record.until.isoformat() if record.until else None,
            returns_to=record.returns_to,
            call_id=record.call_id,
            version=record.version,
            stale=snapshot.is_stale(kind, unit_id),
        )
    return view


_CLOCK_TIME = re.compile(r"^\s*([01]?\d|2[0-3])\s*[:hH]\s*([0-5]\d)\s*$")


def parse_until(text: str, timezone: ZoneInfo, now: datetime) -> datetime:
    """Return the end of a state from ISO 8601 or a clock time alone ("08:00": its next occurrence after ``now``).

    Raises InputError when the time is invalid, ambiguous on a daylight-saving night, or past.
    """
    clock = _CLOCK_TIME.match(text)
    if clock:
        local_now = now.astimezone(timezone)
        moment = time(int(clock.group(1)), int(clock.group(2)))
        until = localize(datetime.combine(local_now.date(), moment), "until", timezone).value
        if until <= now:
            until = localize(datetime.combine(local_now.date() + timedelta(days=1), moment), "until", timezone).value
    else:
        until = parse_time(text, "until", timezone).value
    if until <= now:
        raise InputError("until_past", f"until {text!r} is already past", field="until", value=text)
    return until


def list_units(store: Any) -> dict[str, Any]:
    """Return the store's state and every unit of the region, set or not, as ``GET /api/v1/resources`` does."""
    snapshot = store.snapshot()
    block = dict(store.health())
    block["reachable"] = bool(block.get("reachable")) and snapshot.reachable
    block["stale_after_min"] = round(store.stale_after.total_seconds() / 60)
    block["taken_at"] = snapshot.taken_at.isoformat()
    units = [unit_view(snapshot, kind, unit_id, name) for kind in ResourceKind for unit_id, name in store.units.units(kind).items()]
    return {"store": block, "units": units}


def state_view(store: Any, state: ResourceState) -> dict[str, Any]:
    """Return the view of a state just written or received, as a snapshot taken now shows it."""
    snapshot = ResourceSnapshot(states={state.key: state}, taken_at=datetime.now(UTC), stale_after=store.stale_after, store=store.name)
    return unit_view(snapshot, state.kind, state.unit_id, store.units.units(state.kind).get(state.unit_id, state.unit_id))


__all__ = ["UnitCatalogue", "UnitUnknown", "list_units", "parse_kind", "parse_until", "state_view", "unit_view"]
