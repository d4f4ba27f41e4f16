"""The back office's maintained figures (services/dashboard.py): counter items and tally markers.

One table, one hash key `key`:
- counter items (`orders-by-status`, `orders-day#<yyyy-mm-dd>`, `shoes-by-status`, `stock-alerts`)
  hold one number attribute per figure, named by the figure (a status, `orders`, `revenue_cents`,
  `low`, `sold_out`), changed only by ADD inside a transaction;
- a tally marker per counted thing (`tally#orders#<order id>`, `tally#stock#<shoe>#<size>`,
  `tally#shoes#<shoe id>`) holds what that thing adds to the counters now (`applied`), the stream
  position it was computed from (`guard`) and a `revision` that conditions every write of it.
Low and sold-out stock markers also carry `alert` = "stock": the sparse `by-alert` index holds
those markers only, so the low-stock view is a Query of exactly the sizes it lists.
"""

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import StoreModel, table_meta

STOCK_ALERT = "stock"


class TalliesByAlert(GlobalSecondaryIndex):
    """Sparse: only markers with an `alert` (low or sold-out sizes of active shoes)."""

    class Meta:
        index_name = "by-alert"
        projection = AllProjection()

    alert = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)


class Tally(StoreModel):
    """A counter item or a tally marker (see the module docstring); counters' number attributes are
    named at run time, so services/dashboard.py writes and reads them with the raw client."""

    Meta = table_meta("counters")

    key = UnicodeAttribute(hash_key=True)
    guard = UnicodeAttribute(null=True)
    revision = NumberAttribute(null=True)
    applied: MapAttribute[str, object] = MapAttribute(null=True)
    alert = UnicodeAttribute(null=True)
    shoe_id = UnicodeAttribute(null=True)
    size = UnicodeAttribute(null=True)
    quantity = NumberAttribute(null=True)
    state = UnicodeAttribute(null=True)  # low, sold_out

    by_alert = TalliesByAlert()
