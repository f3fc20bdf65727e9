"""Completion of a typed name into communes and named places of the network."""

from __future__ import annotations

from dataclasses import dataclass

from geodata.communes import fold_name
from dispatch.service import ServiceContext



def _place_rank(rank: int) -> float:
    """Rank a network place among communes: after a commune of exactly that name, else first of its rank.

    So "Val Thorens" and "val tho" offer the resort before its commune (Les Belleville),
    which only matches through an alias.
    """
    return 0.5 if rank == 0 else rank - 0.5


@dataclass(frozen=True)
class Suggestion:
    """One completion: ``value`` is what the page sends as the request's ``commune``."""

    label: str
    value: str
    kind: str
    insee: str | None
    departement: str | None
    lat: float
    lon: float

    def to_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "value": self.value,
            "kind": self.kind,
            "insee": self.insee,
            "departement": self.departement,
            "lat": round(self.lat, 5),
            "lon": round(self.lon, 5),
        }


def complete(context: ServiceContext, query: str, limit: int) -> list[Suggestion]:
    """Return up to ``limit`` communes and network places matching ``query``, best first.

    A commune's ``value`` is its bare name when that name alone designates it (so the
    recommendation places the patient at the network place of that name, as the command
    line does), else the name with its département in brackets.
    """
    communes = context.region.communes
    ranked: list[tuple[float, int, Suggestion]] = []
    commune_names = set()

    for order, (rank, commune) in enumerate(communes.ranked_matches(query)[: limit * 2]):
        resolved, _ = communes.resolve(commune.name)
        value = commune.name if resolved is not None and resolved.insee == commune.insee else f"{commune.name} ({commune.departement})"
        label = f"{commune.name} ({commune.departement})"
        commune_names.add(fold_name(commune.name))
        ranked.append((rank, order, Suggestion(label, value, "commune", commune.insee, commune.departement, commune.lat, commune.lon)))

    places = context.places
    if places is not None:
        for order, (rank, node) in enumerate(places.ranked_matches(query)[: limit * 2]):
            name = places.name(node)
            # A place named like a commune is the one the commune's name resolves to.
            if fold_name(name) in commune_names:
                continue
            lat, lon = places.lat_lon(node)
            found = context.region.commune_at(lon, lat)
            ranked.append(
                (
                    _place_rank(rank),
                    order,
                    Suggestion(
                        f"{name} – {found.name} ({found.departement})" if found else name,
                        name,
                        "place",
                        found.insee if found else None,
                        found.departement if found else None,
                        lat,
                        lon,
                    ),
                )
            )

    ranked.sort(key=lambda item: (item[0], item[1]))
    return [suggestion for _, _, suggestion in ranked[:limit]]
