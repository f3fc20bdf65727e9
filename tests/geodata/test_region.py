"""Region loading: boundary, communes search and the sites file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from geodata.errors import DataError
from geodata.region import load_region
from geodata.sites import load_sites

REGION_DIR = Path(__file__).resolve().parents[2] / "regions" / "northern-alps"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("val disere", "Val-d'Isère"),
        ("VAL D'ISÈRE", "Val-d'Isère"),
        ("chamonix", "Chamonix-Mont-Blanc"),
        ("st jean de maurienne", "Saint-Jean-de-Maurienne"),
        ("bourg st maurice", "Bourg-Saint-Maurice"),
        ("grenoble", "Grenoble"),
    ],
)
def test_commune_search_ignores_accents_and_case(region, query, expected):
    assert region.communes.search(query)[0].name == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("meribel", "Les Allues"),
        ("Val Thorens", "Les Belleville"),
        ("alpe d'huez", "Huez"),
        ("les arcs", "Bourg-Saint-Maurice"),
        ("Saint-Gervais (74)", "Saint-Gervais-les-Bains"),
        ("73304", "Val-d'Isère"),
    ],
)
def test_commune_resolves_resorts_and_codes(region, query, expected):
    commune, _ = region.communes.resolve(query)
    assert commune is not None
    assert commune.name == expected


@pytest.mark.parametrize("query", ["saint gervais", "Saint-Julien", "les 7 laux"])
def test_ambiguous_commune_lists_candidates(region, query):
    commune, candidates = region.communes.resolve(query)
    assert commune is None
    assert len(candidates) >= 2


def test_commune_search_unknown_name_is_empty(region):
    assert region.communes.search("atlantis sur mer") == []


def test_communes_cover_three_departements(region):
    departements = {c.departement for c in region.communes.communes}
    assert departements == {"38", "73", "74"}


@pytest.mark.parametrize(
    ("lat", "lon", "inside"),
    [
        (45.1885, 5.7245, True),  # Grenoble
        (45.9237, 6.8694, True),  # Chamonix
        (45.4486, 6.9800, True),  # Val-d'Isère
        (46.2044, 6.1432, False),  # Geneva
        (45.7640, 4.8357, False),  # Lyon
        (44.5594, 6.0786, False),  # Gap
    ],
)
def test_region_boundary(region, lat, lon, inside):
    assert region.contains(lon, lat) is inside


def test_only_confirmed_cath_labs_are_destinations(region):
    ids = {s.id for s in region.sites.cath_labs}
    assert {"grenoble-chu-nord", "chambery-ch-metropole-savoie", "annecy-change", "geneve-hug"} <= ids
    assert "grenoble-ghm" not in ids  # 24/7 PCI unconfirmed


def test_every_site_fact_has_a_source(region):
    for site in region.sites.cath_labs:
        lab = site.cath_lab
        for fact in (lab.pci_24_7, lab.direct_admission, lab.door_to_wire_min):
            assert fact.source, site.id


def test_sites_have_smur_and_heli_bases(region):
    assert len(region.sites.smur_bases) >= 12
    assert any(s.id == "annecy-meythet-base" for s in region.sites.heli_bases)


def test_bad_sites_file_names_the_key(tmp_path):
    raw = yaml.safe_load((REGION_DIR / "sites.yaml").read_text(encoding="utf-8"))
    raw["sites"][0]["location"]["lat"] = 123.0
    path = tmp_path / "sites.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_sites(path)
    assert caught.value.field == "sites.0.location.lat"


def test_duplicate_site_ids_rejected(tmp_path):
    raw = yaml.safe_load((REGION_DIR / "sites.yaml").read_text(encoding="utf-8"))
    raw["sites"].append(raw["sites"][0])
    path = tmp_path / "sites.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(DataError, match="duplicate"):
        load_sites(path)


def test_missing_data_dir_names_the_setting(tmp_path):
    with pytest.raises(DataError) as caught:
        load_region(REGION_DIR, tmp_path)
    assert caught.value.field == "RESURCOR_DATA_DIR"
