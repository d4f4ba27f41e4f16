"""Hand the stream consumers the tables as they are now, as if every item had just been written:
a stand-in for the stream where a test needs the maintained figures but not the stream itself
(devtools/counters.py, what `manage.py backfill-dashboard` runs)."""

from devtools.counters import changes_of, replay

__all__ = ["changes_of", "replay"]
