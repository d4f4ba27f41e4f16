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


# -- size systems and the size guide -------------------------------------------------------------
SYSTEMS = {"eu": "EU", "uk": "UK", "us": "US"}
DEFAULT_SYSTEM = "eu"
# Children's UK and US sizes restart after 13.5 (UK 13 is followed by UK 1): a table, not a formula.
_KIDS_UK_US = {
    "28": ("10", "11"),
    "29": ("11", "12"),
    "30": ("11.5", "12.5"),
    "31": ("12.5", "13.5"),
    "32": ("13", "1"),
    "33": ("1", "2"),
    "34": ("2", "3"),
    "35": ("2.5", "3.5"),
}


def in_system(size: str, department: str, system: str) -> str:
    """The number a size system gives an EU size ("42" -> UK "8.5", US "9.5" for men)."""
    if system == "eu":
        return size
    if department == "kids" and size in _KIDS_UK_US:
        return _KIDS_UK_US[size][0 if system == "uk" else 1]
    return uk_label(size) if system == "uk" else us_label(size, department)


def foot_length_cm(size: str) -> float:
    """Foot length an EU size fits: the last is size x 2/3 cm (Paris points), 1.5 cm longer than the foot."""
    return round(float(size) / 1.5 - 1.5, 1)


GUIDE_DEPARTMENTS = {"men": "Men", "women": "Women", "kids": "Kids"}


def guide(department: str) -> list[tuple[str, str, str, float]]:
    """(EU, UK, US, foot length in cm) for each size a department's shoes come in."""
    return [
        (size, in_system(size, department, "uk"), in_system(size, department, "us"), foot_length_cm(size))
        for size in sizes_for(department)
    ]
