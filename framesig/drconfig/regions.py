"""Azure region pairs as a *directed* lookup.

Pairing is usually symmetric (Central US ↔ East US 2), but not always: West US 3 pairs with
East US while East US pairs with West US, so ``pair(a) == b`` does not imply ``pair(b) == a``.
Some newer regions have no pair at all and rely on availability zones.

The table follows ``MicrosoftDocs/reliability-docs`` ``articles/reliability/regions-list.md``
and ``regions-paired.md`` as summarised in the project's research notes; it is deliberately
small. Regions outside it are "unknown" to the validator, which then cannot check a pair.

Examples
--------
>>> paired_region("Central US")
'eastus2'
>>> paired_region("westus3"), paired_region("eastus")
('eastus', 'westus')
>>> paired_region("polandcentral") is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "REGION_PAIRS",
    "NO_PAIR",
    "normalize_region",
    "is_known_region",
    "paired_region",
    "pair_note",
]

_PAIRS: dict[str, str] = {}


def _both(a: str, b: str) -> None:
    _PAIRS[a] = b
    _PAIRS[b] = a


_both("centralus", "eastus2")
_both("eastus", "westus")
_both("northcentralus", "southcentralus")
_both("westus2", "westcentralus")
_both("canadacentral", "canadaeast")
_both("northeurope", "westeurope")
_both("uksouth", "ukwest")
_both("japaneast", "japanwest")
_both("australiaeast", "australiasoutheast")
_both("centralindia", "southindia")
# One-way pairs: the target's own pair is a different region.
_PAIRS["westus3"] = "eastus"
_PAIRS["brazilsouth"] = "southcentralus"
_PAIRS["westindia"] = "southindia"

#: Directed pair table, programmatic name -> programmatic name of the paired region.
REGION_PAIRS: Mapping[str, str] = MappingProxyType(dict(sorted(_PAIRS.items())))

#: Regions documented as having no pair (they rely on availability zones).
NO_PAIR: frozenset[str] = frozenset(
    {
        "polandcentral",
        "israelcentral",
        "italynorth",
        "qatarcentral",
        "spaincentral",
        "mexicocentral",
        "chilecentral",
        "belgiumcentral",
    }
)


def normalize_region(name: str) -> str:
    """Return the programmatic form of a region name.

    Display names (``"Central US"``) and programmatic names (``"centralus"``) both work;
    case, spaces, hyphens and underscores are ignored.

    Examples
    --------
    >>> normalize_region("East US 2"), normalize_region("east-us-2"), normalize_region("eastus2")
    ('eastus2', 'eastus2', 'eastus2')
    """
    return "".join(ch for ch in name.lower() if ch.isalnum())


def is_known_region(name: str) -> bool:
    """Whether the region appears in the pair table or in :data:`NO_PAIR`.

    Examples
    --------
    >>> is_known_region("Central US"), is_known_region("atlantis")
    (True, False)
    """
    r = normalize_region(name)
    return r in REGION_PAIRS or r in NO_PAIR or r in REGION_PAIRS.values()


def paired_region(name: str) -> str | None:
    """The documented pair of ``name`` (directed), or ``None`` when it has none or is unknown.

    Parameters
    ----------
    name : str
        A region, display or programmatic name.

    Returns
    -------
    str or None
        The programmatic name of the secondary region.

    Examples
    --------
    >>> paired_region("eastus2")
    'centralus'
    >>> paired_region("brazilsouth"), paired_region("southcentralus")
    ('southcentralus', 'northcentralus')
    """
    return REGION_PAIRS.get(normalize_region(name))


def pair_note(primary: str, secondary: str | None) -> str:
    """A short human note on how ``secondary`` relates to ``primary``'s documented pair.

    Examples
    --------
    >>> pair_note("centralus", "eastus2")
    'documented pair of centralus, both directions'
    >>> pair_note("westus3", "eastus")
    'documented pair of westus3, one way (eastus pairs with westus)'
    >>> pair_note("centralus", "westus")
    'not the documented pair of centralus (eastus2)'
    """
    p = normalize_region(primary)
    if secondary is None:
        return "no secondary region"
    s = normalize_region(secondary)
    pair = paired_region(p)
    if pair is None:
        if p in NO_PAIR:
            return f"{p} has no documented pair"
        return f"{p} is not in the region table"
    if pair != s:
        return f"not the documented pair of {p} ({pair})"
    back = paired_region(s)
    if back == p:
        return f"documented pair of {p}, both directions"
    return f"documented pair of {p}, one way ({s} pairs with {back})"
