"""Communes of a region: INSEE code, name, population and a representative point.

Search by name ignores case, accents, hyphens and apostrophes, so that a regulator
typing ``val disere`` finds Val-d'Isère.
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from geodata.errors import DataError

logger = logging.getLogger(__name__)

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold_name(text: str) -> str:
    """Return ``text`` lower-cased, without accents, with every separator turned into one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    ascii_text = ascii_text.replace("œ", "oe").replace("æ", "ae")
    return _NON_ALNUM.sub(" ", ascii_text).strip()


def _squash(text: str) -> str:
    return fold_name(text).replace(" ", "")


_ARTICLES = frozenset({"l", "le", "la", "les"})


def name_keys(text: str) -> set[str]:
    """Return the lookup keys of a name: folded, with and without a leading article.

    A caller says "Alpe d'Huez" for "L'Alpe d'Huez" and "Arcs 1800" for "Les Arcs 1800".
    """
    words = fold_name(text).split(" ")
    keys = {"".join(words)}
    if len(words) > 1 and words[0] in _ARTICLES:
        keys.add("".join(words[1:]))
    return {key for key in keys if key}


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    departement: str
    population: int
    lat: float
    lon: float


@dataclass(frozen=True)
class CommuneIndex:
    """Communes with a name index; ``search`` ranks exact, then prefix, then substring matches."""

    communes: tuple[Commune, ...]
    _names: tuple[tuple[str, Commune, bool], ...]

    @classmethod
    def from_communes(cls, communes: list[Commune], aliases: dict[str, list[str]] | None = None) -> CommuneIndex:
        """Index communes by name and by ``aliases`` (INSEE code to other names, such as resorts)."""
        names = [(_squash(c.name), c, False) for c in communes]
        by_code = {c.insee: c for c in communes}
        for insee, alias_names in (aliases or {}).items():
            commune = by_code.get(insee)
            if commune is not None:
                names.extend((key, commune, True) for alias in alias_names for key in name_keys(alias))
        return cls(communes=tuple(communes), _names=tuple(names))

    def by_insee(self, insee: str) -> Commune | None:
        by_code = self.__dict__.get("_by_code")
        if by_code is None:
            by_code = {commune.insee: commune for commune in self.communes}
            self.__dict__["_by_code"] = by_code
        return by_code.get(insee)

    def ranked_matches(self, query: str) -> list[tuple[int, Commune]]:
        """Return (rank, commune) for every match, best first.

        Ranks: 0 the exact name, 1 an exact alias, 2 a name or alias starting with the
        query, 3 a name or alias containing it.
        """
        needle = _squash(_expand_saint(query))
        if not needle:
            return []
        best: dict[str, int] = {}
        by_code: dict[str, Commune] = {}
        for squashed, commune, is_alias in self._names:
            if squashed == needle:
                rank = 1 if is_alias else 0
            elif squashed.startswith(needle):
                rank = 2
            elif needle in squashed:
                rank = 3
            else:
                continue
            # A commune found by its name and by an alias keeps its best rank.
            if rank < best.get(commune.insee, 4):
                best[commune.insee] = rank
                by_code[commune.insee] = commune
        ranked = sorted(best.items(), key=lambda item: (item[1], -by_code[item[0]].population))
        return [(rank, by_code[insee]) for insee, rank in ranked]

    def search(self, query: str, limit: int = 10) -> list[Commune]:
        """Return the communes whose name matches ``query``, best first.

        Exact matches come first, then names starting with the query, then names
        containing it; within a rank the most populated commune comes first. The
        comparison ignores case, accents and every separator, with "st"/"ste" read as
        "saint"/"sainte".
        """
        return [commune for _, commune in self.ranked_matches(query)[:limit]]

    def resolve(self, query: str) -> tuple[Commune | None, list[Commune]]:
        """Return the one commune ``query`` designates, or None and the candidates.

        ``query`` may be an INSEE code, a name, or a name followed by its département
        in brackets ("Saint-Gervais (74)"). A name designates one commune when it is the
        only exact name (else the only exact alias) and no longer name starting with it
        has more inhabitants. So "saint gervais" stays ambiguous between Saint-Gervais
        (38, 538 inhabitants) and Saint-Gervais-les-Bains (74). Without an exact match,
        the name must be the start of exactly one commune's name or alias.
        """
        text = query.strip()
        by_code = self.by_insee(text.upper())
        if by_code is not None:
            return by_code, [by_code]

        departement = None
        bracket = _DEPARTEMENT_SUFFIX.match(text)
        if bracket:
            text, departement = bracket.group(1), bracket.group(2).upper()
        matches = [(r, c) for r, c in self.ranked_matches(text) if departement is None or c.departement == departement]

        # Only names and aliases equal to the query or starting with it designate a
        # commune: "Paris" must not land in Seyssinet-Pariset.
        strong = [(r, c) for r, c in matches if r <= 2]
        candidates = [c for _, c in strong]
        for rank in (0, 1):
            exact = [c for r, c in strong if r == rank]
            if len(exact) > 1:
                return None, candidates
            if len(exact) == 1:
                larger_prefix = any(c.population > exact[0].population for r, c in strong if r == 2)
                return (None, candidates) if larger_prefix else (exact[0], candidates)
        if len(strong) == 1:
            return strong[0][1], candidates
        return None, candidates

    def suggest(self, query: str, limit: int = 5) -> list[Commune]:
        """Return communes whose name or alias contains ``query``, for an error message."""
        return [c for _, c in self.ranked_matches(query)[:limit]]


_DEPARTEMENT_SUFFIX = re.compile(r"^(.*?)\s*\(\s*([0-9][0-9AB]?)\s*\)\s*$", re.IGNORECASE)


def _expand_saint(query: str) -> str:
    words = fold_name(query).split(" ")
    expanded = {"st": "saint", "ste": "sainte"}
    return " ".join(expanded.get(w, w) for w in words)


def read_aliases(path: Path, code_column: str, name_column: str) -> dict[str, list[str]]:
    """Read other names of communes (resorts, villages) from a CSV: INSEE code to names.

    A cell may list several names separated by " / "; text in brackets is a comment, so
    "Méribel / Méribel-Mottaret (Les Allues)" gives Méribel and Méribel-Mottaret.
    """
    aliases: dict[str, list[str]] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                cell = _BRACKETS.sub("", row.get(name_column) or "")
                names = [name.strip() for name in cell.split(" / ") if name.strip()]
                if names:
                    aliases.setdefault(row[code_column], []).extend(names)
    except (OSError, KeyError) as err:
        raise DataError("communes_invalid", f"cannot read commune aliases from {path}: {err}", field=str(path)) from err
    return aliases


_BRACKETS = re.compile(r"\([^)]*\)")


def load_communes(path: Path, departements: set[str] | None = None, aliases: dict[str, list[str]] | None = None) -> CommuneIndex:
    """Load a communes CSV (code_insee, nom, departement, population, lat, lon)."""
    required = {"code_insee", "nom", "departement", "population", "lat", "lon"}
    communes = []
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = required - set(reader.fieldnames or [])
            if missing:
                raise DataError("communes_invalid", f"the communes file {path} lacks the columns {sorted(missing)}", field=str(path))
            for line, row in enumerate(reader, start=2):
                if departements and row["departement"] not in departements:
                    continue
                try:
                    communes.append(
                        Commune(
                            insee=row["code_insee"],
                            name=row["nom"],
                            departement=row["departement"],
                            population=int(row["population"]),
                            lat=float(row["lat"]),
                            lon=float(row["lon"]),
                        )
                    )
                except ValueError as err:
                    raise DataError("communes_invalid", f"invalid row {line} of {path}: {err}", field=str(path)) from err
    except OSError as err:
        raise DataError("communes_invalid", f"cannot read the communes file {path}: {err}", field=str(path)) from err
    logger.info("communes %s: %d communes", path.name, len(communes))
    return CommuneIndex.from_communes(communes, aliases)
