"""The units of a region, read from its sites file, and the JSON view of one unit's state.

A SMUR unit is named by its SMUR base site id, a helicopter by its helicopter base site
id, a cath lab by the site id of a cath lab used as a destination. A store checks every
id it is given against this catalogue, so a typo never creates a phantom unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geodata.errors import InputError
from dispatch.resources.model import ResourceKind, ResourceSnapshot


class UnitUnknown(InputError):
    """A unit id is not a site of the region for that kind (HTTP 404 on a path, 422 in a body)."""


@dataclass(frozen=True)
class UnitCatalogue:
    """The unit ids and display names of each kind, in the sites file's order."""

    names: Mapping[ResourceKind, Mapping[str, str]]

    @classmethod
    def from_region(cls, region: Any) -> UnitCatalogue:
        sites = region.sites
        return cls(
            names={
                ResourceKind.SMUR: {site.id: site.smur_base.name or site.name for site in sites.smur_bases},
                ResourceKind.HELICOPTER: {site.id: site.heli_base.name or site.name for site in sites.heli_bases},
                ResourceKind.CATH_LAB: {site.id: site.name for site in sites.cath_labs},
            }
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


__all__ = ["UnitCatalogue", "UnitUnknown", "parse_kind", "unit_view"]
