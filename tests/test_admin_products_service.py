"""Product rules of the back office, against moto's DynamoDB."""

import pytest

from chalicelib.models import Shoe, Stock
from chalicelib.services import catalogue_index, products
from chalicelib.services.errors import Conflict, NotFound, ValidationFailed
from tests.factories import ADMIN, make_order, product_input, shoe_via_admin


def test_create_stores_price_in_cents_and_stock_for_each_department_size():
    shoe = shoe_via_admin({"42": 5, "43": 2})
    stored = Shoe.get(shoe.shoe_id)
    assert stored.price_cents == 8995
    assert stored.sizes == [str(n) for n in range(36, 48)]
    assert stored.created_sort.endswith(shoe.shoe_id) and stored.price_sort == f"{8995:010d}#{shoe.shoe_id}"
    rows = products.stock_rows(shoe.shoe_id)
    assert rows["42"].quantity == 5 and rows["43"].quantity == 2 and rows["36"].quantity == 0
    assert len(rows) == 12


def test_kids_shoes_get_kids_sizes():
    shoe = shoe_via_admin({"30": 4}, department="kids")
    assert shoe.sizes == [str(n) for n in range(28, 36)]
    assert products.stock_rows(shoe.shoe_id)["30"].quantity == 4


@pytest.mark.parametrize(
    ("price", "cents"), [("89.95", 8995), ("$89.9", 8990), ("89", 8900), ("1,299.00", 129900), (" 0.01 ", 1)]
)
def test_prices_in_dollars_become_integer_cents(price, cents):
    assert products.parse_price(price) == cents


def test_bad_input_is_reported_per_field_and_nothing_is_written():
    with pytest.raises(ValidationFailed) as raised:
        products.create_shoe(
            product_input(name="", brand="x" * 41, category="hats", department="pets", price="12.345"),
            {"42": "-1"},
            ADMIN,
        )
    errors = raised.value.errors
    assert set(errors) >= {"name", "brand", "category", "department", "price"}
    assert "89.95" in errors["price"]
    assert list(Shoe.scan()) == []


def test_negative_or_non_numeric_stock_is_refused_beside_the_size():
    with pytest.raises(ValidationFailed) as raised:
        products.create_shoe(product_input(), {"42": "-1", "43": "lots"}, ADMIN)
    assert set(raised.value.errors) == {"stock_42", "stock_43"}


def test_product_changes_reach_the_read_model_through_the_shoes_stream(drain_streams):
    shoe = shoe_via_admin()
    drain_streams()
    assert catalogue_index.current(force=True).card(shoe.shoe_id) is not None
    products.archive_shoe(shoe.shoe_id, ADMIN)
    drain_streams()
    assert catalogue_index.current(force=True).card(shoe.shoe_id) is None


def test_edit_saves_over_the_version_seen_and_bumps_it():
    shoe = shoe_via_admin()
    saved = products.update_shoe(shoe.shoe_id, product_input(name="Glide 2", price="99.00"), "1", ADMIN)
    stored = Shoe.get(shoe.shoe_id)
    assert (stored.name, stored.price_cents, stored.version) == ("Glide 2", 9900, 2)
    assert stored.price_sort.startswith("0000009900#") and "glide 2" in stored.search_text
    assert saved.version == 2


def test_stale_edit_is_refused_with_the_newer_values():
    shoe = shoe_via_admin()
    products.update_shoe(shoe.shoe_id, product_input(name="Saved first"), "1", ADMIN)
    with pytest.raises(products.StaleEdit) as raised:
        products.update_shoe(shoe.shoe_id, product_input(name="Saved second"), "1", ADMIN)
    assert raised.value.current.name == "Saved first"
    assert Shoe.get(shoe.shoe_id).name == "Saved first"


def test_an_edit_that_lands_between_read_and_write_is_caught_by_the_condition(monkeypatch):
    """Deterministic interleaving: admin A reads version 1; admin B saves; A's write must fail."""
    shoe = shoe_via_admin()
    real_get = products.get_shoe
    calls = []

    def get_then_let_b_save(shoe_id):
        loaded = real_get(shoe_id)
        if not calls:
            calls.append(1)
            other = real_get(shoe_id)
            other.update(actions=[Shoe.name.set("B's name")])
        return loaded

    monkeypatch.setattr(products, "get_shoe", get_then_let_b_save)
    with pytest.raises(products.StaleEdit) as raised:
        products.update_shoe(shoe.shoe_id, product_input(name="A's name"), "1", ADMIN)
    assert raised.value.current.name == "B's name"
    assert Shoe.get(shoe.shoe_id).name == "B's name"


def test_set_stock_is_conditioned_on_the_count_seen():
    shoe = shoe_via_admin({"42": 5})
    assert products.set_stock(shoe.shoe_id, "42", 8, 5, ADMIN) == 8
    with pytest.raises(Conflict, match="changed to 8"):
        products.set_stock(shoe.shoe_id, "42", 3, 5, ADMIN)
    assert products.stock_rows(shoe.shoe_id)["42"].quantity == 8


def test_adjust_adds_atomically_and_never_goes_negative():
    shoe = shoe_via_admin({"42": 2})
    assert products.adjust_stock(shoe.shoe_id, "42", 5, ADMIN) == 7
    assert products.adjust_stock(shoe.shoe_id, "42", -7, ADMIN) == 0
    with pytest.raises(Conflict, match="Only 0 pairs"):
        products.adjust_stock(shoe.shoe_id, "42", -1, ADMIN)
    assert products.stock_rows(shoe.shoe_id)["42"].quantity == 0


def test_stock_changes_keep_sold_counts_and_refuse_unknown_sizes():
    shoe = shoe_via_admin({"42": 2})
    make_order([(shoe.shoe_id, "42", 1)])
    products.adjust_stock(shoe.shoe_id, "42", 3, ADMIN)
    row = Stock.get(shoe.shoe_id, "42")
    assert (row.quantity, row.sold) == (5, 1)
    with pytest.raises(ValidationFailed):
        products.adjust_stock(shoe.shoe_id, "30", 1, ADMIN)


def test_stock_grid_sets_changed_sizes_and_reports_conflicting_ones():
    shoe = shoe_via_admin({"40": 1, "41": 1})
    products.adjust_stock(shoe.shoe_id, "41", 4, ADMIN)  # someone received stock meanwhile
    with pytest.raises(ValidationFailed) as raised:
        products.apply_stock_form(shoe.shoe_id, {"40": ("9", "1"), "41": ("2", "1"), "42": ("0", "0")}, ADMIN)
    assert set(raised.value.errors) == {"stock_41"}
    rows = products.stock_rows(shoe.shoe_id)
    assert (rows["40"].quantity, rows["41"].quantity) == (9, 5)


def test_archived_shoes_leave_the_active_index_and_restore_brings_them_back():
    kept = shoe_via_admin(name="Kept")
    gone = shoe_via_admin(name="Gone")
    products.archive_shoe(gone.shoe_id, ADMIN)
    active_ids = [s.shoe_id for s in Shoe.by_newest.query("active")]
    assert active_ids == [kept.shoe_id]
    assert [s.shoe_id for s in Shoe.by_price.query("active")] == [kept.shoe_id]
    assert [s.shoe_id for s in Shoe.by_newest.query("archived")] == [gone.shoe_id]
    products.restore_shoe(gone.shoe_id, ADMIN)
    assert {s.shoe_id for s in Shoe.by_newest.query("active")} == {kept.shoe_id, gone.shoe_id}


def test_hard_delete_only_for_a_shoe_never_ordered():
    never = shoe_via_admin({"42": 3})
    ordered = shoe_via_admin({"42": 3})
    make_order([(ordered.shoe_id, "42", 1)])
    products.delete_shoe(never.shoe_id, ADMIN)
    with pytest.raises(NotFound):
        products.get_shoe(never.shoe_id)
    assert products.stock_rows(never.shoe_id) == {}
    with pytest.raises(Conflict, match="Archive it instead"):
        products.delete_shoe(ordered.shoe_id, ADMIN)
    assert products.get_shoe(ordered.shoe_id).name == "Glide Runner"


def test_delete_fails_whole_if_an_order_lands_after_the_check(monkeypatch):
    shoe = shoe_via_admin({"42": 3})
    real_rows = products.stock_rows

    def rows_then_checkout(shoe_id):
        rows = real_rows(shoe_id)
        Stock(shoe_id=shoe_id, size="42").update(actions=[Stock.sold.add(1), Stock.quantity.add(-1)])
        return rows

    monkeypatch.setattr(products, "stock_rows", rows_then_checkout)
    with pytest.raises(Conflict):
        products.delete_shoe(shoe.shoe_id, ADMIN)
    assert products.get_shoe(shoe.shoe_id)
    assert Stock.get(shoe.shoe_id, "42").sold == 1


def test_admin_list_pages_through_the_index_without_scanning(monkeypatch):
    for n in range(45):
        shoe_via_admin(name=f"Model {n:02d}")
    products.archive_shoe(shoe_via_admin(name="Old one").shoe_id, ADMIN)
    monkeypatch.setattr(Shoe, "scan", lambda *a, **k: pytest.fail("listing must not scan"))
    first = products.list_shoes("active")
    assert len(first.items) == 20 and first.items[0].name == "Model 44"  # newest first
    second = products.list_shoes("active", start=first.next_key)
    third = products.list_shoes("active", start=second.next_key)
    names = [s.name for s in first.items + second.items + third.items]
    assert len(names) == 45 == len(set(names)) and third.next_key is None
    assert first.items_read == 20
    archived = products.list_shoes("archived")
    assert [s.name for s in archived.items] == ["Old one"]


def test_all_status_list_continues_from_active_into_archived():
    for n in range(19):
        shoe_via_admin(name=f"Active {n}")
    for n in range(3):
        products.archive_shoe(shoe_via_admin(name=f"Archived {n}").shoe_id, ADMIN)
    first = products.list_shoes("all")
    assert len(first.items) == 20
    assert sum(1 for s in first.items if s.status == "archived") == 1
    second = products.list_shoes("all", start=first.next_key)
    assert [s.status for s in second.items] == ["archived", "archived"]
    assert second.next_key is None


def test_search_is_case_insensitive_on_name_brand_and_colour():
    shoe_via_admin(name="Trail Blazer", colour="Olive")
    shoe_via_admin(name="City Walk", brand="Velora")
    assert [s.name for s in products.list_shoes("active", "blazer").items] == ["Trail Blazer"]
    assert [s.name for s in products.list_shoes("active", "VELORA").items] == ["City Walk"]
    assert [s.name for s in products.list_shoes("active", "olive").items] == ["Trail Blazer"]
    assert products.list_shoes("active", "nothing like it").items == []


def test_stock_summary_marks_low_and_sold_out_sizes():
    shoe = shoe_via_admin({"40": 2, "41": 10})
    stock = products.stock_for([shoe])
    summary = products.stock_summary(shoe, stock[shoe.shoe_id], {(shoe.shoe_id, "36"): 4})
    assert {key: summary[key] for key in ("total", "low", "sold_out")} == {"total": 12, "low": 1, "sold_out": 10}
    per_size = {size: (pairs, waiting) for size, pairs, waiting in summary["sizes"]}
    assert per_size["36"] == (0, 4) and per_size["40"] == (2, 0) and per_size["41"] == (10, 0)
    assert len(products.sold_out_sizes([shoe], stock)) == 10


def test_changing_department_gives_the_new_sizes_stock_rows_and_keeps_the_old_counts():
    shoe = shoe_via_admin({"40": 3})
    products.update_shoe(shoe.shoe_id, product_input(department="kids"), "1", ADMIN)
    stored = products.get_shoe(shoe.shoe_id)
    assert stored.sizes == [str(n) for n in range(28, 36)]
    rows = products.stock_rows(shoe.shoe_id)
    assert rows["30"].quantity == 0 and rows["40"].quantity == 3
