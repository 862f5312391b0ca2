def test_login_and_home(client_for, tenant_a):
    client = client_for("a.officer")
    html = client.get("/").get_data(as_text=True)
    assert "องค์การบริหารส่วนตำบลเอ" in html
