"""Present population: residents plus tourist beds times the occupancy of the day."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from geodata.communes import Commune
from dispatch.planning.population import build_population
from dispatch.planning.scenario import ScenarioError

COMMUNES = (
    Commune(insee="73227", name="Saint-Bon-Tarentaise", departement="73", population=2000, lat=45.4, lon=6.6),
    Commune(insee="38185", name="Grenoble", departement="38", population=150000, lat=45.19, lon=5.72),
)

OCCUPANCY = """occupancy_profile,period,start_mmdd,end_mmdd,occ_all_beds,confidence,source
winter_resort,february,02-01,02-28,0.8,medium,test
winter_resort,summer,07-01,08-31,0.4,low,test
winter_resort,peak_week,,,0.95,low,test
other_second_homes,rest_of_year,,,0.1,low,test
"""


@pytest.fixture
def tables(tmp_path):
    beds = tmp_path / "beds.csv"
    beds.write_text("insee,tourist_beds_total,occupancy_profile,source,confidence\n73227,30000,winter_resort,resort office,medium\n", encoding="utf-8")
    occupancy = tmp_path / "occupancy.csv"
    occupancy.write_text(OCCUPANCY, encoding="utf-8")
    return beds, occupancy


def test_present_adds_occupied_beds(tables):
    model = build_population(COMMUNES, *tables)
    assert model.present(date(2027, 2, 15)).tolist() == [2000 + 30000 * 0.8, 150000]
    assert model.present(date(2027, 8, 10)).tolist() == [2000 + 30000 * 0.4, 150000]


def test_day_outside_periods_gives_residents(tables):
    model = build_population(COMMUNES, *tables)
    assert model.present(date(2027, 11, 10))[0] == 2000


def test_named_period_applies_every_day(tables):
    model = build_population(COMMUNES, *tables, named_period="peak_week")
    assert model.present(date(2027, 11, 10))[0] == pytest.approx(2000 + 30000 * 0.95)


def test_rate_override(tables):
    model = build_population(COMMUNES, *tables, rate_override=0.5)
    assert model.present(date(2027, 2, 15))[0] == 17000


def test_sources_kept_per_commune(tables):
    model = build_population(COMMUNES, *tables)
    assert model.bed_sources[0] == "resort office"
    assert model.bed_confidences[0] == "medium"
    assert model.bed_sources[1] == ""


def test_no_beds_table_gives_residents():
    model = build_population(COMMUNES, None, None)
    assert np.array_equal(model.present(date(2027, 2, 15)), model.residents)


def test_shared_tables_read(data_dir, region):
    model = build_population(region.communes.communes, data_dir / "communes/tourist_beds.csv", data_dir / "communes/tourist_occupancy.csv")
    february = model.present(date(2027, 2, 20)).sum()
    november = model.present(date(2027, 11, 15)).sum()
    assert model.residents.sum() < november < february
    assert (model.beds > 0).sum() > 100


@pytest.mark.parametrize(
    ("beds_text", "code"),
    [
        ("insee,beds\n73227,3\n", "population_columns"),
        ("insee,tourist_beds_total\n99999,3\n", "population_unknown_commune"),
        ("insee,tourist_beds_total\n73227,many\n", "population_value"),
        ("insee,tourist_beds_total\n73227,-5\n", "population_value"),
        ("insee,tourist_beds_total,occupancy_profile\n73227,5,lake_town\n", "population_unknown_profile"),
    ],
)
def test_bad_planner_table(tmp_path, tables, beds_text, code):
    beds = tmp_path / "planner.csv"
    beds.write_text(beds_text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        build_population(COMMUNES, beds, tables[1])
    assert caught.value.code == code
    assert caught.value.field == "population.tourist_beds"
