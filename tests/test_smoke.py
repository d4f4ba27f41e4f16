def test_home_page_renders(web):
    response = web.get("/")
    assert response.status_code == 200
    assert b"Find your next pair" in response.body


def test_register_login_flow(web):
    response = web.register("bob")
    assert response.status_code == 303
    page = web.get("/account")
    assert page.status_code == 200, page.body
    assert b"bob" in page.body
