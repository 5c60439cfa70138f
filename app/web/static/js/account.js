// "My account": the customer's details and saved address (PATCH /me), the password
// (PUT /me/password) and signing out everywhere (POST /logout/all).
import { $, announce, api, busy, clearProblem, get, h, loginHref, onSubmit, session, showProblem, withBusy, fill } from "./core.js";

const ADDRESS_FIELDS = ["name", "line1", "line2", "city", "postal_code", "country", "phone"];

function control(form, name) {
  return form.elements.namedItem(name);
}

function fillDetails(form, customer) {
  control(form, "name").value = customer.name || "";
  control(form, "email").value = customer.email || "";
  control(form, "phone").value = customer.phone || "";
}

function fillAddress(form, address) {
  for (const key of ADDRESS_FIELDS) control(form, `default_address.${key}`).value = (address && address[key]) || "";
  $("#address-none").hidden = Boolean(address);
  $("#address-remove").hidden = !address;
}

// The address form as the API takes it: optional parts left empty are null.
function addressBody(form) {
  const address = {};
  for (const key of ADDRESS_FIELDS) {
    const value = control(form, `default_address.${key}`).value.trim();
    if (value !== "") address[key] = key === "country" ? value.toUpperCase() : value;
    else if (key === "line2" || key === "phone") address[key] = null;
  }
  return address;
}

function render(me) {
  session.saveWho(me);
  $("#account-username").textContent = me.account.username;
  fillDetails($("#details"), me.customer);
  fillAddress($("#address"), me.customer.default_address);
}

export async function accountPage() {
  const container = $("#account");
  if (!session.signedIn()) {
    container.hidden = true;
    const notice = $("#account-signin");
    fill(notice, "Log in to see your account. ", h("a", { href: loginHref() }, "Log in"), ".");
    notice.hidden = false;
    return;
  }
  let me;
  try {
    me = await get("/me");
  } catch (err) {
    busy(container, false);
    container.hidden = true;
    showProblem(err);
    return;
  }
  if (!me.customer) {
    container.hidden = true;
    fill($("#account-signin"), "This account has no customer profile: there are no details to change here.");
    $("#account-signin").hidden = false;
    return;
  }
  render(me);
  busy(container, false);

  const details = $("#details");
  onSubmit(details, async () => {
    const body = {
      name: control(details, "name").value.trim(),
      email: control(details, "email").value.trim(),
      phone: control(details, "phone").value.trim() || null,
    };
    me = await api("PATCH", "/me", body);
    render(me);
    announce("Your details are saved.");
  });

  const address = $("#address");
  onSubmit(address, async () => {
    me = await api("PATCH", "/me", { default_address: addressBody(address) });
    render(me);
    announce("Your address is saved. Orders without another address go there.");
  });
  const remove = $("#address-remove");
  remove.addEventListener("click", () =>
    withBusy(remove, async () => {
      if (!confirm("Remove your saved address?")) return;
      try {
        clearProblem(address);
        me = await api("PATCH", "/me", { default_address: null });
        render(me);
        announce("Your saved address is removed.");
        control(address, "default_address.name").focus();
      } catch (err) {
        showProblem(err, { form: address });
      }
    }),
  );

  const password = $("#password");
  onSubmit(password, async () => {
    await api("PUT", "/me/password", {
      current_password: control(password, "current_password").value,
      new_password: control(password, "new_password").value,
    });
    control(password, "current_password").value = "";
    control(password, "new_password").value = "";
    announce("Your password is changed. Your other devices are signed out; this one stays signed in.");
  });

  const everywhere = $("#logout-all");
  everywhere.addEventListener("click", () =>
    withBusy(everywhere, async () => {
      if (!confirm("Sign out on every device, this one included?")) return;
      try {
        await api("POST", "/logout/all");
      } catch (err) {
        showProblem(err, { alert: $("#sessions-alert") });
        return;
      }
      session.clear();
      location.assign("/shop/login?signed_out=everywhere");
    }),
  );
}
