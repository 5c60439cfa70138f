"""Auth & Accounts: register, login, tokens (refresh rotation and reuse), /me, admin account management."""

from __future__ import annotations

from folders.common import (
    envelope,
    folder,
    fresh,
    location,
    no_content,
    problem,
    request,
    status,
    store_tokens,
    test,
    unauthorized,
)


def auth_folder() -> dict:
    login_admin = request(
        "Login as the demo admin",
        "POST",
        "/login",
        json_body={"username": "{{adminUsername}}", "password": "{{adminPassword}}"},
        tests=status(200) + "\n" + store_tokens("admin"),
        description="Stores `adminToken` and `adminRefreshToken` for the requests that follow.",
    )
    login_customer = request(
        "Login as the demo customer",
        "POST",
        "/login",
        json_body={"username": "{{customerUsername}}", "password": "{{customerPassword}}"},
        tests=status(200) + "\n" + store_tokens("customer"),
        description="Stores `customerToken` and `customerRefreshToken` for the requests that follow.",
    )
    me_admin = request(
        "Me (admin)",
        "GET",
        "/me",
        token="adminToken",
        tests=status(200)
        + "\n"
        + test(
            "the admin account, ids stored",
            """
            const body = pm.response.json();
            pm.expect(body.account.role).to.eql("admin");
            pm.expect(body.account.username).to.eql(pm.variables.get("adminUsername"));
            pm.collectionVariables.set("adminAccountId", body.account.id);
            pm.collectionVariables.set("adminCustomerId", body.account.customer_id);
            """,
        ),
    )
    me_customer = request(
        "Me (customer)",
        "GET",
        "/me",
        token="customerToken",
        tests=status(200)
        + "\n"
        + test(
            "the customer account and profile, ids stored",
            """
            const body = pm.response.json();
            pm.expect(body.account.role).to.eql("customer");
            pm.expect(body.customer.id).to.eql(body.account.customer_id);
            pm.expect(body.customer.email).to.include("@");
            pm.collectionVariables.set("customerAccountId", body.account.id);
            pm.collectionVariables.set("customerCustomerId", body.customer.id);
            pm.collectionVariables.set("customerEmail", body.customer.email);
            """,
        ),
    )
    login_email = request(
        "Login with the email instead of the username",
        "POST",
        "/login",
        json_body={"username": "{{customerEmail}}", "password": "{{customerPassword}}"},
        tests=status(200)
        + "\n"
        + test("tokens are issued", 'pm.expect(pm.response.json().access_token).to.be.a("string");'),
    )
    wrong_password = request(
        "Login — wrong password → 401",
        "POST",
        "/login",
        json_body={"username": "{{customerUsername}}", "password": "not-the-password"},
        tests=problem(401)
        + "\n"
        + test(
            "no token in the answer",
            """
            const body = pm.response.json();
            pm.expect(body).to.not.have.property("access_token");
            pm.collectionVariables.set("badLoginDetail", body.detail);
            """,
        ),
    )
    unknown_user = request(
        "Login — unknown user → the same 401",
        "POST",
        "/login",
        json_body={"username": "nobody-{{$timestamp}}", "password": "not-the-password"},
        tests=problem(401)
        + "\n"
        + test(
            "indistinguishable from a wrong password",
            'pm.expect(pm.response.json().detail).to.eql(pm.collectionVariables.get("badLoginDetail"));',
        ),
    )
    register = request(
        "Register a customer",
        "POST",
        "/register",
        prerequest=fresh(
            ("newUsername", '"PM_User_" + suffix'),
            ("newEmail", '"pm.user." + suffix + "@example.com"'),
            ("newPassword", '"first-pass-" + suffix'),
            ("newPassword2", '"second-pass-" + suffix'),
        ),
        json_body={
            "name": "Postman Reader",
            "email": "{{newEmail}}",
            "phone": "+1 555 010 0000",
            "username": "{{newUsername}}",
            "password": "{{newPassword}}",
            "default_address": {
                "name": "Postman Reader",
                "line1": "1 Postman Street",
                "city": "Testville",
                "postal_code": "T1 1ST",
                "country": "GB",
            },
        },
        tests=status(201)
        + "\n"
        + location("/accounts/\\d+")
        + "\n"
        + test(
            "the customer and its account; the username is lower-cased",
            """
            const body = pm.response.json();
            pm.expect(body.customer.email).to.eql(pm.collectionVariables.get("newEmail"));
            pm.expect(body.account.username).to.eql(pm.collectionVariables.get("newUsername").toLowerCase());
            pm.expect(body.account.role).to.eql("customer");
            pm.expect(body.account.is_active).to.eql(true);
            pm.expect(body.account.customer_id).to.eql(body.customer.id);
            pm.expect(body.account.created_at).to.match(/^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$/);
            pm.expect(body.account).to.not.have.property("password");
            pm.expect(body.customer.default_address).to.eql({name: "Postman Reader", line1: "1 Postman Street",
                line2: null, city: "Testville", postal_code: "T1 1ST", country: "GB", phone: null});
            pm.collectionVariables.set("newAccountId", body.account.id);
            pm.collectionVariables.set("newCustomerId", body.customer.id);
            """,
        ),
    )
    dup_username = request(
        "Register — username taken → 409",
        "POST",
        "/register",
        json_body={
            "name": "Someone Else",
            "email": "other.{{$timestamp}}{{$randomInt}}@example.com",
            "username": "{{newUsername}}",
            "password": "another-pass-123",
        },
        tests=problem(409, "username"),
    )
    dup_email = request(
        "Register — email taken → 409",
        "POST",
        "/register",
        json_body={
            "name": "Someone Else",
            "email": "{{newEmail}}",
            "username": "other_{{$timestamp}}{{$randomInt}}",
            "password": "another-pass-123",
        },
        tests=problem(409, "email"),
    )
    register_role = request(
        "Register — role cannot be chosen → 400",
        "POST",
        "/register",
        json_body={
            "name": "Would Be Admin",
            "email": "wannabe.{{$timestamp}}{{$randomInt}}@example.com",
            "username": "wannabe_{{$timestamp}}{{$randomInt}}",
            "password": "wannabe-pass-123",
            "role": "admin",
        },
        tests=problem(400, "role"),
    )
    register_invalid = request(
        "Register — invalid fields → 400 naming each",
        "POST",
        "/register",
        json_body={"name": "", "email": "not-an-email", "username": "x", "password": "short"},
        tests=problem(400, "name", "email", "username", "password"),
    )
    register_text = request(
        "Register — a body that is not JSON → 415",
        "POST",
        "/register",
        raw="name=Ann&username=ann",
        content_type="text/plain",
        tests=problem(415),
    )
    register_malformed = request(
        "Register — malformed JSON → 400",
        "POST",
        "/register",
        raw='{"name": "Ann", "email": ',
        tests=problem(400),
    )
    login_new = request(
        "Login as the new customer (username in any case)",
        "POST",
        "/login",
        json_body={"username": "{{newUsername}}", "password": "{{newPassword}}"},
        tests=status(200)
        + "\n"
        + store_tokens("new")
        + "\n"
        + test(
            "this login session is kept as firstToken",
            'pm.collectionVariables.set("firstToken", pm.response.json().access_token);',
        ),
    )
    me_no_token = request("Me — no token → 401", "GET", "/me", tests=unauthorized())
    me_bad_token = request(
        "Me — a token that is not a JWT → 401",
        "GET",
        "/me",
        headers={"Authorization": "Bearer not.a.token"},
        tests=unauthorized(),
    )
    me_new = request(
        "Me (new customer)",
        "GET",
        "/me",
        token="newToken",
        tests=status(200)
        + "\n"
        + test(
            "the account and customer just registered",
            """
            const body = pm.response.json();
            pm.expect(String(body.account.id)).to.eql(pm.collectionVariables.get("newAccountId"));
            pm.expect(String(body.customer.id)).to.eql(pm.collectionVariables.get("newCustomerId"));
            """,
        ),
    )
    patch_me = request(
        "Update my profile",
        "PATCH",
        "/me",
        token="newToken",
        json_body={"name": "Postman Reader II", "phone": "+44 20 7946 0001"},
        tests=status(200)
        + "\n"
        + test(
            "the changed fields, the others kept",
            """
            const c = pm.response.json().customer;
            pm.expect(c.name).to.eql("Postman Reader II");
            pm.expect(c.phone).to.eql("+44 20 7946 0001");
            pm.expect(c.email).to.eql(pm.collectionVariables.get("newEmail"));
            """,
        ),
    )
    patch_me_unknown = request(
        "Update my profile — an unknown field → 400",
        "PATCH",
        "/me",
        token="newToken",
        json_body={"username": "renamed"},
        tests=problem(400, "username"),
    )
    wrong_current = request(
        "Change password — wrong current password → 400",
        "PUT",
        "/me/password",
        token="newToken",
        json_body={"current_password": "not-my-password", "new_password": "{{newPassword2}}"},
        tests=problem(400, "current_password"),
    )
    change_password = request(
        "Change password",
        "PUT",
        "/me/password",
        token="newToken",
        json_body={"current_password": "{{newPassword}}", "new_password": "{{newPassword2}}"},
        tests=no_content(),
    )
    login_new2 = request(
        "Login with the new password",
        "POST",
        "/login",
        json_body={"username": "{{newUsername}}", "password": "{{newPassword2}}"},
        tests=status(200) + "\n" + store_tokens("new"),
    )
    first_still_valid = request(
        "A new login revokes nothing: the first session still works",
        "GET",
        "/me",
        token="firstToken",
        tests=status(200)
        + "\n"
        + test(
            "the same account",
            'pm.expect(String(pm.response.json().account.id)).to.eql(pm.collectionVariables.get("newAccountId"));',
        ),
    )
    refresh = request(
        "Refresh: a new access token and a new refresh token",
        "POST",
        "/token/refresh",
        token="newRefreshToken",
        tests=status(200)
        + "\n"
        + test(
            "the refresh token rotates",
            'pm.expect(pm.response.json().refresh_token).to.not.eql(pm.collectionVariables.get("newRefreshToken"));',
        )
        + "\n"
        + store_tokens("new"),
    )
    refresh_with_access = request(
        "Refresh — an access token is refused → 401",
        "POST",
        "/token/refresh",
        token="newToken",
        tests=unauthorized(),
    )
    list_accounts = request(
        "List accounts (admin)",
        "GET",
        "/accounts?page=1&per_page=2",
        token="adminToken",
        tests=status(200)
        + "\n"
        + envelope(per_page=2)
        + "\n"
        + test(
            "at least the two demo accounts and the new one",
            """
            const body = pm.response.json();
            pm.expect(body.total).to.be.at.least(3);
            pm.expect(body.items[0]).to.include.keys("id", "username", "role", "is_active", "customer_id");
            pm.expect(pm.response.headers.get("Link")).to.include('rel="next"');
            """,
        ),
    )
    list_accounts_customer = request(
        "List accounts — a customer → 403", "GET", "/accounts", token="customerToken", tests=problem(403)
    )
    list_accounts_anonymous = request("List accounts — no token → 401", "GET", "/accounts", tests=unauthorized())
    list_accounts_big = request(
        "List accounts — per_page=101 → 400",
        "GET",
        "/accounts?per_page=101",
        token="adminToken",
        tests=problem(400, "per_page"),
    )
    list_accounts_zero = request(
        "List accounts — page=0 → 400", "GET", "/accounts?page=0", token="adminToken", tests=problem(400, "page")
    )
    list_accounts_past = request(
        "List accounts — a page past the end is empty, not 404",
        "GET",
        "/accounts?page=100000&per_page=100",
        token="adminToken",
        tests=status(200)
        + "\n"
        + test(
            "no items, the totals still right",
            """
            const body = pm.response.json();
            pm.expect(body.items).to.eql([]);
            pm.expect(body.page).to.eql(100000);
            pm.expect(body.total).to.be.above(0);
            pm.expect(pm.response.headers.get("Link")).to.include('rel="prev"');
            """,
        ),
    )
    create_account = request(
        "Create an account (admin)",
        "POST",
        "/accounts",
        token="adminToken",
        prerequest=fresh(("staffUsername", '"pm_staff_" + suffix'), ("staffPassword", '"staff-pass-" + suffix')),
        json_body={"username": "{{staffUsername}}", "password": "{{staffPassword}}", "role": "customer"},
        tests=status(201)
        + "\n"
        + location("/accounts/\\d+")
        + "\n"
        + test(
            "an active account without a customer",
            """
            const body = pm.response.json();
            pm.expect(body.username).to.eql(pm.collectionVariables.get("staffUsername"));
            pm.expect(body.role).to.eql("customer");
            pm.expect(body.customer_id).to.eql(null);
            pm.collectionVariables.set("staffAccountId", body.id);
            """,
        ),
    )
    create_account_dup = request(
        "Create an account — username taken → 409",
        "POST",
        "/accounts",
        token="adminToken",
        json_body={"username": "{{customerUsername}}", "password": "whatever-pass-1"},
        tests=problem(409, "username"),
    )
    create_account_customer = request(
        "Create an account — a customer → 403",
        "POST",
        "/accounts",
        token="customerToken",
        json_body={"username": "x_{{$timestamp}}", "password": "whatever-pass-1"},
        tests=problem(403),
    )
    get_own_account = request(
        "Get my account",
        "GET",
        "/accounts/{{newAccountId}}",
        token="newToken",
        tests=status(200)
        + "\n"
        + test(
            "the account with its customer nested",
            """
            const body = pm.response.json();
            pm.expect(String(body.id)).to.eql(pm.collectionVariables.get("newAccountId"));
            pm.expect(String(body.customer.id)).to.eql(pm.collectionVariables.get("newCustomerId"));
            """,
        ),
    )
    get_other_account = request(
        "Get someone else's account → 404",
        "GET",
        "/accounts/{{adminAccountId}}",
        token="newToken",
        tests=problem(404),
    )
    self_promote = request(
        "Update my account — role is for admins → 403",
        "PATCH",
        "/accounts/{{newAccountId}}",
        token="newToken",
        json_body={"role": "admin"},
        tests=problem(403),
    )
    own_password_no_current = request(
        "Update my account — a new password needs current_password → 400",
        "PATCH",
        "/accounts/{{newAccountId}}",
        token="newToken",
        json_body={"password": "third-pass-123"},
        tests=problem(400, "current_password"),
    )
    demote_last_admin = request(
        "Demote the last admin → 409",
        "PATCH",
        "/accounts/{{adminAccountId}}",
        token="adminToken",
        json_body={"role": "customer"},
        tests=problem(409),
        description="The seeded database has one admin; the API keeps at least one active admin.",
    )
    replace_account = request(
        "Replace an account (admin) — PUT sends the username",
        "PUT",
        "/accounts/{{staffAccountId}}",
        token="adminToken",
        json_body={"username": "{{staffUsername}}"},
        tests=status(200)
        + "\n"
        + test(
            "the username is the one sent",
            'pm.expect(pm.response.json().username).to.eql(pm.collectionVariables.get("staffUsername").toLowerCase());',
        ),
    )
    deactivate = request(
        "Deactivate an account (admin)",
        "PATCH",
        "/accounts/{{staffAccountId}}",
        token="adminToken",
        json_body={"is_active": False},
        tests=status(200) + "\n" + test("is_active is false", "pm.expect(pm.response.json().is_active).to.eql(false);"),
    )
    login_deactivated = request(
        "Login — a deactivated account → the same 401",
        "POST",
        "/login",
        json_body={"username": "{{staffUsername}}", "password": "{{staffPassword}}"},
        tests=problem(401)
        + "\n"
        + test(
            "indistinguishable from a wrong password",
            'pm.expect(pm.response.json().detail).to.eql(pm.collectionVariables.get("badLoginDetail"));',
        ),
    )
    delete_account = request(
        "Delete an account (admin)", "DELETE", "/accounts/{{staffAccountId}}", token="adminToken", tests=no_content()
    )
    get_deleted_account = request(
        "Get the deleted account → 404", "GET", "/accounts/{{staffAccountId}}", token="adminToken", tests=problem(404)
    )
    logout = request("Logout", "POST", "/logout", token="newToken", tests=no_content())
    me_after_logout = request("Me after logout → 401", "GET", "/me", token="newToken", tests=unauthorized())
    refresh_after_logout = request(
        "Refresh after logout → 401 (the whole login session is revoked)",
        "POST",
        "/token/refresh",
        token="newRefreshToken",
        tests=unauthorized(),
    )
    login_reuse = request(
        "Login again, for the refresh reuse check",
        "POST",
        "/login",
        json_body={"username": "{{newUsername}}", "password": "{{newPassword2}}"},
        tests=status(200) + "\n" + store_tokens("reuse"),
    )
    rotate = request(
        "Refresh once: the refresh token sent is used up",
        "POST",
        "/token/refresh",
        token="reuseRefreshToken",
        tests=status(200) + "\n" + store_tokens("rotated"),
    )
    reuse = request(
        "Refresh token used twice → 401, and its login session ends",
        "POST",
        "/token/refresh",
        token="reuseRefreshToken",
        tests=unauthorized(),
    )
    rotated_after_reuse = request(
        "The session's newest refresh token after the reuse → 401",
        "POST",
        "/token/refresh",
        token="rotatedRefreshToken",
        tests=unauthorized(),
    )
    access_after_reuse = request(
        "The session's newest access token after the reuse → 401",
        "GET",
        "/me",
        token="rotatedToken",
        tests=unauthorized(),
    )
    other_session = request(
        "Logout leaves the other login session alone",
        "GET",
        "/me",
        token="firstToken",
        tests=status(200)
        + "\n"
        + test(
            "the first session still answers",
            'pm.expect(String(pm.response.json().account.id)).to.eql(pm.collectionVariables.get("newAccountId"));',
        ),
    )
    return folder(
        "Auth & Accounts",
        "Register, login (username or email), refresh, logout, /me, password change and admin account "
        "management, with their failure cases. Run first: it stores the admin and customer tokens.",
        [
            login_admin,
            login_customer,
            me_admin,
            me_customer,
            login_email,
            wrong_password,
            unknown_user,
            register,
            dup_username,
            dup_email,
            register_role,
            register_invalid,
            register_text,
            register_malformed,
            login_new,
            me_no_token,
            me_bad_token,
            me_new,
            patch_me,
            patch_me_unknown,
            wrong_current,
            change_password,
            login_new2,
            first_still_valid,
            refresh,
            refresh_with_access,
            list_accounts,
            list_accounts_customer,
            list_accounts_anonymous,
            list_accounts_big,
            list_accounts_zero,
            list_accounts_past,
            create_account,
            create_account_dup,
            create_account_customer,
            get_own_account,
            get_other_account,
            self_promote,
            own_password_no_current,
            demote_last_admin,
            replace_account,
            deactivate,
            login_deactivated,
            delete_account,
            get_deleted_account,
            logout,
            me_after_logout,
            refresh_after_logout,
            other_session,
            login_reuse,
            rotate,
            reuse,
            rotated_after_reuse,
            access_after_reuse,
        ],
    )
