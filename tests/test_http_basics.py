"""Health, problem+json for HTTP-level errors, the served OpenAPI spec, and a clean log."""

import logging
import re

from tests.factories import make_customer


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_unknown_route_is_a_problem(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "urn:blackbook:problem:not_found"


def test_wrong_method_is_405_with_allow(client, world):
    response = client.put("/api/v1/requests", json={}, headers=world.headers("admin"))
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert response.json["code"] == "method_not_allowed"


def test_body_that_is_not_json_is_415(client, world):
    response = client.post("/api/v1/customers", data="given_name=Ada",
                           content_type="application/x-www-form-urlencoded",
                           headers=world.tablet_a.headers)
    assert response.status_code == 415
    assert response.json["code"] == "unsupported_media_type"


def test_body_over_the_limit_is_413(client, world):
    big = '{"given_name": "' + "x" * (5 * 1024 * 1024 + 10) + '"}'
    response = client.post("/api/v1/customers", data=big, content_type="application/json",
                           headers=world.tablet_a.headers)
    assert response.status_code == 413
    assert response.json["code"] == "too_large"


def test_malformed_json_is_400(client, world):
    response = client.post("/api/v1/customers", data='{"given_name":',
                           content_type="application/json", headers=world.tablet_a.headers)
    assert response.status_code == 400
    assert response.json["code"] == "malformed"


def test_unknown_field_is_named(client, world):
    response = client.post("/api/v1/customers", json={"given_name": "Ada", "shoe": 5},
                           headers=world.tablet_a.headers)
    assert response.status_code == 422
    assert response.json["errors"]["json"]["shoe"] == ["Unknown field."]


def test_openapi_spec_documents_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.0.3"
    documented = {re.sub(r"\{(\w+)\}", r"<\1>", path) for path in spec["paths"]}
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule) for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and "docs" not in rule.rule
              and not rule.rule.endswith("openapi.json")}
    assert routes <= {f"/api/v1{p}" if not p.startswith("/api") else p for p in documented}
    assert "bearer" in spec["components"]["securitySchemes"]


def test_api_docs_page_loads_nothing_from_the_internet(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', page.get_data(as_text=True))
    assert external == []
    assert client.get("/api/v1/docs/swagger-ui-bundle.js").status_code == 200


def test_request_log_holds_no_personal_data_or_key(client, world, session, caplog):
    customer = make_customer(session, world.tablet_a.actor, email="secret.person@example.com")
    with caplog.at_level(logging.DEBUG):
        client.get("/api/v1/customers", query_string={"email": "secret.person@example.com"},
                   headers=world.tablet_a.headers)
        client.post("/api/v1/customers", json={"given_name": "Ada", "email": "bad"},
                    headers=world.tablet_a.headers)
    text = caplog.text
    assert "GET /api/v1/customers 200" in text
    for secret in ("secret.person", world.tablet_a.token, str(customer.id), "Ada"):
        assert secret not in text
