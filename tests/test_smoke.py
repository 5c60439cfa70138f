def test_health(client):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "ok"}


def test_register_login_me(client):
    r = client.post("/register", json={"name": "Ann", "email": "ann@example.com", "username": "ann", "password": "password-123"})
    assert r.status_code == 201, r.get_json()
    r = client.post("/login", json={"username": "ann", "password": "password-123"})
    assert r.status_code == 200, r.get_json()
    tok = r.get_json()["access_token"]
    r = client.get("/me", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 200, r.get_json()
    print(r.get_json())
