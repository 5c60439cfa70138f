// One customer for the admin: the profile, the login account with its actions (change the role,
// deactivate or reactivate), the order totals and the orders, each linking to the order's page.
import { $, announce, api, busy, cell, dateTime, fill, get, h, money, onSubmit, pageParams, plural, renderPager, showProblem, start, statusBadge, withBusy } from "./core.js";
import { requireAdmin, subjectFailed } from "./adminkit.js";

const ORDERS_PER_PAGE = 10;
const customerId = () => document.body.dataset.customerId;

function addressLines(address) {
  if (!address) return "No saved address.";
  return [address.name, address.line1, address.line2, `${address.postal_code} ${address.city}`, address.country].filter(Boolean).join("\n");
}

function renderProfile(customer) {
  $("#customer-heading").textContent = customer.name;
  document.title = `Admin: ${customer.name} · Bookstore`;
  $("#profile-name").textContent = customer.name;
  fill($("#profile-email"), h("a", { href: `mailto:${customer.email}` }, customer.email));
  $("#profile-phone").textContent = customer.phone || "—";
  $("#profile-address").textContent = addressLines(customer.default_address);
  $("#profile-joined").textContent = dateTime(customer.created_at);
  const t = customer.order_totals;
  fill(
    $("#order-totals"),
    [
      ["Orders", String(t.orders), "totals-orders"],
      ["Cancelled", String(t.cancelled), "totals-cancelled"],
      ["Spent", money(t.spent), "totals-spent"],
    ].map(([term, value, id]) => h("div", {}, h("dt", {}, term), h("dd", { id }, value))),
  );
}

function renderAccount(account) {
  $("#account-none").hidden = account !== null;
  $("#account-box").hidden = account === null;
  if (!account) return;
  $("#account-username").textContent = account.username;
  $("#account-role").textContent = account.role;
  fill($("#account-state"), account.is_active ? "Active" : h("strong", { class: "warning" }, "Deactivated"));
  $("#role-form-role").value = account.role;
  const toggle = $("#account-toggle");
  toggle.textContent = account.is_active ? "Deactivate account" : "Reactivate account";
  toggle.className = account.is_active ? "danger" : "";
}

async function loadOrders() {
  const params = pageParams(["page"]);
  const data = await get(`/customers/${customerId()}/orders`, { ...params, per_page: ORDERS_PER_PAGE });
  $("#orders-empty").hidden = data.items.length > 0;
  $("#orders-table").hidden = data.items.length === 0;
  fill(
    $("#orders-rows"),
    data.items.map((order) =>
      h(
        "tr",
        { dataset: { orderId: order.id } },
        cell({ "data-label": "Order" }, h("a", { href: `/admin/orders/${order.id}` }, `Order ${order.id}`)),
        cell({ "data-label": "Placed" }, dateTime(order.created_at)),
        cell({ class: "num", "data-label": "Items" }, String(order.items.reduce((n, i) => n + i.quantity, 0))),
        cell({ class: "num", "data-label": "Total" }, money(order.total)),
        cell({ "data-label": "Status" }, statusBadge(order.status)),
      ),
    ),
  );
  renderPager($("#orders-pager"), data);
}

async function customerPage() {
  if (!requireAdmin()) return;
  let customer;
  try {
    customer = await get(`/customers/${customerId()}`);
  } catch (err) {
    subjectFailed(err, $("#admin-customer"), { noun: "customer", id: customerId(), href: "/admin/customers", listName: "all customers" });
    return;
  }
  renderProfile(customer);
  renderAccount(customer.account);
  busy($("#admin-customer"), false);

  onSubmit($("#role-form"), async (values) => {
    const saved = await api("PATCH", `/accounts/${customer.account.id}`, { role: values.role });
    customer.account = saved;
    renderAccount(saved);
    announce(`${saved.username} is now ${saved.role === "admin" ? "an admin" : "a customer"}.`);
  });
  const toggle = $("#account-toggle");
  toggle.addEventListener("click", () => {
    const account = customer.account;
    if (account.is_active && !confirm(`Deactivate ${account.username}? They can no longer log in.`)) return;
    withBusy(toggle, async () => {
      try {
        const saved = await api("PATCH", `/accounts/${account.id}`, { is_active: !account.is_active });
        customer.account = saved;
        renderAccount(saved);
        announce(`${saved.username} is ${saved.is_active ? "active again" : "deactivated"}.`);
      } catch (err) {
        showProblem(err);
      }
    });
  });
  try {
    await loadOrders();
  } catch (err) {
    showProblem(err, { keep: true });
  }
  $("#orders-heading").textContent = `Orders (${plural(customer.order_totals.orders, "order")})`;
}

start({ "admin-customer": customerPage });
