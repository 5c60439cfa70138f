"""My account: the pages' refresh cookie asked for at login, and signing out everywhere.

Runs last: POST /logout/all ends every session of the demo customer, the tokens the earlier
folders used included."""

from __future__ import annotations

from folders.common import folder, no_content, problem, request, status, store_tokens, test, unauthorized

CUSTOMER = {"username": "{{customerUsername}}", "password": "{{customerPassword}}"}


def account_folder() -> dict:
    laptop = request(
        "Log in (a laptop's session)",
        "POST",
        "/login",
        json_body=CUSTOMER,
        tests=status(200) + "\n" + store_tokens("laptop"),
    )
    phone = request(
        "Log in again (a phone's session)",
        "POST",
        "/login",
        json_body=CUSTOMER,
        tests=status(200) + "\n" + store_tokens("phone"),
    )
    cookie_no_header = request(
        "Log in asking for the refresh cookie without X-Session-Cookie → 403",
        "POST",
        "/login",
        json_body={**CUSTOMER, "refresh_cookie": True},
        tests=problem(403)
        + "\n"
        + test("no cookie is set", 'pm.expect(pm.response.headers.has("Set-Cookie")).to.eql(false);'),
    )
    cookie_login = request(
        "Log in as the pages do: the refresh token comes as an HttpOnly cookie",
        "POST",
        "/login",
        json_body={**CUSTOMER, "refresh_cookie": True},
        headers={"X-Session-Cookie": "1"},
        tests=status(200)
        + "\n"
        + test(
            "an access token in the body, the refresh token only in the cookie",
            """
            const body = pm.response.json();
            pm.expect(body.access_token.split(".")).to.have.lengthOf(3);
            pm.expect(body).to.not.have.property("refresh_token");
            const cookie = pm.response.headers.get("Set-Cookie");
            pm.expect(cookie).to.include("bookstore_refresh=");
            pm.expect(cookie).to.include("HttpOnly");
            pm.expect(cookie).to.include("Secure");
            pm.expect(cookie).to.include("SameSite=Strict");
            pm.expect(cookie).to.include("Path=/token/refresh");
            """,
        ),
    )
    everywhere = request(
        "Sign out everywhere",
        "POST",
        "/logout/all",
        token="laptopToken",
        tests=no_content()
        + "\n"
        + test(
            "the pages' cookie is cleared",
            """
            const cookie = pm.response.headers.get("Set-Cookie");
            pm.expect(cookie).to.include("bookstore_refresh=");
            pm.expect(cookie).to.include("Max-Age=0");
            """,
        ),
    )
    phone_after = request(
        "The phone's access token after signing out everywhere → 401",
        "GET",
        "/me",
        token="phoneToken",
        tests=unauthorized(),
    )
    phone_refresh_after = request(
        "The phone's refresh token after signing out everywhere → 401",
        "POST",
        "/token/refresh",
        token="phoneRefreshToken",
        tests=unauthorized(),
    )
    laptop_after = request(
        "The laptop's own access token after signing out everywhere → 401",
        "GET",
        "/me",
        token="laptopToken",
        tests=unauthorized(),
    )
    return folder(
        "My account",
        "The pages' refresh cookie and signing out everywhere. Runs last: it ends every session of the demo customer.",
        [
            laptop,
            phone,
            cookie_no_header,
            cookie_login,
            everywhere,
            phone_after,
            phone_refresh_after,
            laptop_after,
        ],
    )
