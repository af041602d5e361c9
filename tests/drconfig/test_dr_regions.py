"""Directed Azure region-pair lookup."""

from __future__ import annotations

import pytest

from framesig.drconfig.regions import (
    NO_PAIR,
    REGION_PAIRS,
    is_known_region,
    normalize_region,
    pair_note,
    paired_region,
)


def test_central_us_pairs_both_ways() -> None:
    assert paired_region("centralus") == "eastus2"
    assert paired_region("eastus2") == "centralus"
    assert paired_region("Central US") == "eastus2"


@pytest.mark.parametrize(
    ("primary", "pair", "back"),
    [
        ("westus3", "eastus", "westus"),
        ("brazilsouth", "southcentralus", "northcentralus"),
        ("westindia", "southindia", "centralindia"),
    ],
)
def test_one_way_pairs(primary: str, pair: str, back: str) -> None:
    assert paired_region(primary) == pair
    assert paired_region(pair) == back != primary


@pytest.mark.parametrize("region", sorted(NO_PAIR))
def test_regions_without_pair(region: str) -> None:
    assert paired_region(region) is None
    assert is_known_region(region)


def test_unknown_region() -> None:
    assert paired_region("atlantis") is None
    assert not is_known_region("atlantis")


def test_table_is_read_only_and_normalized() -> None:
    with pytest.raises(TypeError):
        REGION_PAIRS["x"] = "y"  # type: ignore[index]
    assert all(
        k == normalize_region(k) and v == normalize_region(v) for k, v in REGION_PAIRS.items()
    )
    assert not NO_PAIR & set(REGION_PAIRS)


def test_normalize() -> None:
    assert normalize_region("East US 2") == "eastus2"
    assert normalize_region("north_central-us") == "northcentralus"


def test_pair_note() -> None:
    assert "both directions" in pair_note("centralus", "eastus2")
    assert "one way" in pair_note("westus3", "eastus")
    assert "not the documented pair" in pair_note("eastus", "westus3")
    assert "no documented pair" in pair_note("polandcentral", "germanywestcentral")
    assert pair_note("centralus", None) == "no secondary region"
