"""services/paging: the merged reader under the customer search (fields merged alphabetically, one
customer once) and the sharded lists (newest first): pages continue every source where it stopped,
with no repeats and no gaps, and a source read to its end is not read again."""

from chalicelib.models import User
from chalicelib.models.accounts import CUSTOMER_SHARDS
from chalicelib.services.paging import END, Source, merged_query_page, merged_read
from tests.cart_fixtures import count_dynamodb_calls
from tests.factories import make_user


def by_prefix(prefix: str) -> tuple[Source, ...]:
    """The username and email indexes from `prefix` on, as the customer search reads them."""
    return (
        Source("username", User.by_username, prefix[0], "username_lc", ("pk", "username_head", "username_lc"),
               User.username_lc.startswith(prefix)),
        Source("email", User.by_email, prefix[0], "email_lc", ("pk", "email_head", "email_lc"),
               User.email_lc.startswith(prefix)),
    )  # fmt: skip


def read_all(sources: tuple[Source, ...], page_size: int, **options) -> tuple[list[str], list[dict | None]]:
    names: list[str] = []
    cursors: list[dict | None] = []
    start = None
    for _page in range(20):
        page = merged_read(User, sources, page_size, start, **options)
        names += [user.username for user in page.items]
        cursors.append(page.next_key)
        start = page.next_key
        if start is None:
            break
    return names, cursors


def test_sources_merge_alphabetically_and_one_item_found_twice_is_shown_once():
    make_user("mia", "zed@example.com")  # only her username starts with "m"
    make_user("max", "max@example.com")  # both fields
    make_user("zoe", "mo@example.com")  # only her email
    names, _cursors = read_all(by_prefix("m"), 2, newest_first=False, unique_by="pk")
    # max (username "max" and email "max@…"), mia, then zoe by "mo@…"
    assert names == ["max", "mia", "zoe"]
    repeated, _cursors = read_all(by_prefix("m"), 2, newest_first=False)
    assert repeated == ["max", "max", "mia", "zoe"]


def test_pages_continue_each_source_and_a_finished_source_is_not_read_again():
    for n in range(5):
        make_user(f"pat{n}", f"x{n}@example.com")
    make_user("sam", "pa@example.com")
    with count_dynamodb_calls() as calls:
        first = merged_read(User, by_prefix("pa"), 3, newest_first=False, unique_by="pk")
    assert [user.username for user in first.items] == ["sam", "pat0", "pat1"]  # "pa@…" sorts first
    assert calls["Query"] == 2
    assert first.next_key is not None and first.next_key["email"] == END
    with count_dynamodb_calls() as calls:
        second = merged_read(User, by_prefix("pa"), 3, first.next_key, newest_first=False, unique_by="pk")
    assert [user.username for user in second.items] == ["pat2", "pat3", "pat4"]
    assert calls["Query"] == 1  # the username index only
    assert second.next_key is None


def test_a_cursor_entry_that_is_not_a_key_reads_that_source_from_its_start():
    make_user("ray", "ray@example.com")
    page = merged_read(User, by_prefix("r"), 5, {"username": "nonsense", "email": {}}, newest_first=False)
    assert [user.username for user in page.items] == ["ray", "ray"]


def test_sharded_pages_are_newest_first_with_no_repeats_and_no_gaps():
    people = [make_user(f"user{n}", f"user{n}@example.com") for n in range(9)]
    shards = tuple(str(n) for n in range(CUSTOMER_SHARDS))
    key_names = ("pk", "customer_shard", "joined_sort")
    seen: list[str] = []
    start = None
    for _page in range(10):
        with count_dynamodb_calls() as calls:
            page = merged_query_page(User, User.by_joined, shards, "joined_sort", key_names, 2, start)
        assert calls["Query"] <= 2 * CUSTOMER_SHARDS
        seen += [str(user.joined_sort) for user in page.items]
        start = page.next_key
        if start is None:
            break
    assert seen == sorted((str(user.joined_sort) for user in people), reverse=True)
