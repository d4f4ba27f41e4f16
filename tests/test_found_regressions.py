"""Bugs the hostile-input and fault tests found, pinned down as plain route tests."""


def test_duplicate_username_differing_in_case_is_a_field_error_not_a_500(web, other_web):
    assert web.register("alice", "alice@example.com").status_code == 303
    response = other_web.register("ALICE", "other@example.com")
    assert response.status_code == 400
    page = response.body.decode()
    assert "That username is taken. Choose another." in page
    assert 'id="field-username-error"' in page
    assert 'value="ALICE"' in page and 'value="other@example.com"' in page  # what was typed is kept


def test_duplicate_email_is_a_field_error(web, other_web):
    assert web.register("alice", "alice@example.com").status_code == 303
    response = other_web.register("alicia", "Alice@Example.com")
    assert response.status_code == 400
    assert "An account with that email already exists." in response.body.decode()
    assert 'id="field-email-error"' in response.body.decode()
