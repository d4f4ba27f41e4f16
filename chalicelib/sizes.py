"""Sizes are stored as EU labels ("42"); UK (EU - 33.5, down to a half size) and US (UK + 1 for
men, + 2 for women) labels are shown beside them.
"""

from functools import lru_cache

ADULT_SIZES = [str(n) for n in range(36, 48)]  # EU 36 to 47
KIDS_SIZES = [str(n) for n in range(28, 36)]  # EU 28 to 35
ALL_SIZES = KIDS_SIZES + ADULT_SIZES


def sizes_for(department: str) -> list[str]:
    return KIDS_SIZES if department == "kids" else ADULT_SIZES


def made_for(department: str, size: str) -> bool:
    """Whether shoes of the department come in the size at all (EU 42 is no kids' size)."""
    return size in sizes_for(department)


def sort_key(size: str) -> float:
    try:
        return float(size)
    except ValueError:
        return 1e9


def is_valid(size: str) -> bool:
    return size in _valid()


@lru_cache(maxsize=1)
def _valid() -> frozenset[str]:
    return frozenset(ALL_SIZES)


def _half(value: float) -> str:
    whole = int(value)
    return f"{whole}" if value == whole else f"{whole}.5"


def _uk(size: str) -> float:
    return int((float(size) - 33.5) * 2) / 2


def uk_label(size: str) -> str:
    return _half(_uk(size))


def us_label(size: str, department: str = "men") -> str:
    return _half(_uk(size) + (2 if department == "women" else 1))


def label(size: str, department: str = "men") -> str:
    """ "EU 42 · UK 8.5 · US 9.5" for a size picker."""
    if department == "kids":
        return f"EU {size}"
    return f"EU {size} · UK {uk_label(size)} · US {us_label(size, department)}"
