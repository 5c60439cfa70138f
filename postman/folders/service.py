"""Service: health, the OpenAPI document, the docs, 404/405/415 problems."""

from __future__ import annotations

from folders.common import folder, problem, request, status, test


def service_folder() -> dict:
    return folder(
        "Service",
        "Health, the OpenAPI document, the offline docs, and how unknown paths and methods answer.",
        [
            request(
                "Health",
                "GET",
                "/health",
                tests=status(200)
                + "\n"
                + test(
                    "the service and its database are up",
                    'pm.expect(pm.response.json()).to.eql({status: "ok", database: "ok"});',
                ),
            ),
            request(
                "OpenAPI document",
                "GET",
                "/openapi.json",
                tests=status(200)
                + "\n"
                + test(
                    "an OpenAPI 3 document describing the API",
                    """
                    const doc = pm.response.json();
                    pm.expect(doc.openapi).to.match(/^3\\./);
                    ["/register", "/login", "/token/refresh", "/logout", "/me", "/me/password",
                     "/accounts", "/accounts/{account_id}", "/customers", "/customers/{customer_id}",
                     "/health"].forEach(function (path) {
                        pm.expect(doc.paths, path).to.have.property(path);
                    });
                    pm.expect(doc.components.securitySchemes).to.have.property("bearerAuth");
                    """,
                ),
            ),
            request(
                "Interactive docs (offline)",
                "GET",
                "/docs/",
                tests=status(200)
                + "\n"
                + test(
                    "an HTML page that loads its assets from this server",
                    """
                    pm.expect(pm.response.headers.get("Content-Type")).to.include("text/html");
                    const html = pm.response.text();
                    pm.expect(html.toLowerCase()).to.include("swagger");
                    pm.expect(html).to.not.match(/<script[^>]+src="https?:/);
                    """,
                ),
            ),
            request("Unknown path → 404", "GET", "/no-such-thing", tests=problem(404)),
            request(
                "Wrong method → 405 with Allow",
                "DELETE",
                "/health",
                tests=problem(405)
                + "\n"
                + test("Allow lists GET", 'pm.expect(pm.response.headers.get("Allow")).to.include("GET");'),
            ),
            request(
                "X-Request-ID is echoed",
                "GET",
                "/health",
                headers={"X-Request-ID": "postman-{{$timestamp}}"},
                tests=status(200)
                + "\n"
                + test(
                    "the response carries the request id that was sent",
                    'pm.expect(pm.response.headers.get("X-Request-ID")).to.match(/^postman-\\d+$/);',
                ),
            ),
        ],
    )
