// One order for the admin: the customer, the lines and totals, the status history, the moves the
// API allows now (buttons from the order's `next_statuses`), and its printable packing slip.
import { $, busy, cell, dateTime, day, fill, get, h, money, plural, start, statusBadge, STATUS_LABELS } from "./core.js";
import { moveButtons, requireAdmin, subjectFailed } from "./adminkit.js";

const orderId = () => document.body.dataset.orderId;

function customerName(order) {
  return order.customer ? order.customer.name : "Deleted customer";
}

function render(order) {
  fill($("#order-status"), statusBadge(order.status));
  $("#order-placed").textContent = dateTime(order.created_at);
  const customer = order.customer;
  fill($("#customer-name"), customer ? h("a", { href: `/admin/customers/${customer.id}` }, customer.name) : customerName(order));
  fill($("#customer-email"), customer ? h("a", { href: `mailto:${customer.email}` }, customer.email) : "—");
  $("#order-address").textContent = order.shipping_address || "No address given.";
  fill(
    $("#order-history"),
    order.status_history.map((entry) => h("li", {}, h("strong", {}, STATUS_LABELS[entry.status] || entry.status), " ", dateTime(entry.at))),
  );
  $("#order-delivery").textContent = order.expected_delivery_date ? `Expected delivery: ${day(order.expected_delivery_date)}.` : "";
  fill(
    $("#order-lines"),
    order.items.map((item) =>
      h(
        "tr",
        {},
        cell({ "data-label": "Book" }, h("a", { href: `/admin/books/${item.book_id}` }, item.title)),
        cell({ class: "num", "data-label": "Unit price" }, money(item.unit_price)),
        cell({ class: "num", "data-label": "Quantity" }, String(item.quantity)),
        cell({ class: "num", "data-label": "Line total" }, money(item.line_total)),
      ),
    ),
  );
  $("#order-total").textContent = money(order.total);
  const moves = moveButtons(
    order,
    async () => {
      await load();
      const next = $("#order-actions button");
      (next || $("#order-heading")).focus();
    },
    { small: false },
  );
  fill($("#order-actions"), moves.length ? moves : h("p", { class: "muted" }, "This order's status can no longer change."));
}

async function load() {
  const order = await get(`/orders/${orderId()}`, { embed: "customer" });
  render(order);
  busy($("#admin-order"), false);
}

async function orderPage() {
  if (!requireAdmin()) return;
  try {
    await load();
  } catch (err) {
    subjectFailed(err, $("#admin-order"), ORDER_SUBJECT());
  }
}

async function packingSlip() {
  if (!requireAdmin()) return;
  $("#print-slip").addEventListener("click", () => window.print());
  try {
    const order = await get(`/orders/${orderId()}`, { embed: "customer" });
    $("#slip-placed").textContent = dateTime(order.created_at);
    $("#slip-address").textContent = order.shipping_address || "No address given.";
    $("#slip-customer").textContent = order.customer ? `Customer: ${order.customer.name} (${order.customer.email})` : "";
    fill(
      $("#slip-lines"),
      order.items.map((item) =>
        h("tr", {}, h("td", { class: "num" }, String(item.quantity)), h("td", {}, item.title), h("td", { class: "num" }, String(item.book_id))),
      ),
    );
    $("#slip-count").textContent = String(order.items.reduce((n, i) => n + i.quantity, 0));
    busy($("#packing-slip"), false);
    document.title = `Packing slip: order ${order.id}, ${plural(order.items.length, "title")} · Bookstore`;
  } catch (err) {
    subjectFailed(err, $("#packing-slip"), ORDER_SUBJECT());
  }
}

const ORDER_SUBJECT = () => ({ noun: "order", id: orderId(), href: "/admin/orders", listName: "all orders" });

start({ "admin-order": orderPage, "admin-packing-slip": packingSlip });
