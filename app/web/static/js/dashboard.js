// The admin's home: today's and this week's sales (the sales report), the orders waiting to be
// paid or shipped with how long they have waited, the latest orders, and the stock with a
// restock box on every low or empty title.
import { $, busy, cell, dateTime, fill, get, h, money, pageParams, plural, showProblem, start, statusBadge } from "./core.js";
import { age, requireAdmin, restockForm } from "./adminkit.js";

const WAITING_SHOWN = 5;
const LATEST_SHOWN = 8;

// The sales report counts an order on the UTC date it was placed: "today" and "this week" (ISO,
// from Monday) are UTC dates too.
function utcDays(now = new Date()) {
  const today = now.toISOString().slice(0, 10);
  const monday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
  return { today, monday: monday.toISOString().slice(0, 10) };
}

function stat(term, value, id) {
  return h("div", {}, h("dt", {}, term), h("dd", { id }, value));
}

async function loadSales() {
  const { today, monday } = utcDays();
  const report = await get("/reports/sales", { from: monday, to: today, period: "day" });
  const day = report.series[report.series.length - 1];
  $("#sales-note").textContent = `Today is ${today} (UTC); the week started on Monday ${monday}. Cancelled orders never count.`;
  fill(
    $("#sales-stats"),
    stat("Revenue today", money(day.revenue), "today-revenue"),
    stat("Orders today", String(day.orders), "today-orders"),
    stat("Revenue this week", money(report.totals.revenue), "week-revenue"),
    stat("Orders this week", String(report.totals.orders), "week-orders"),
  );
  busy($("#dashboard-sales"), false);
}

const customerLink = (order) =>
  order.customer ? h("a", { href: `/admin/customers/${order.customer.id}` }, order.customer.name) : h("span", { class: "muted" }, "deleted");

const orderLink = (order) => h("a", { href: `/admin/orders/${order.id}` }, `Order ${order.id}`);

function showRows(key, rows, total) {
  $(`#${key}-empty`).hidden = rows.length > 0;
  $(`#${key}-table`).hidden = rows.length === 0;
  fill($(`#${key}-rows`), rows);
  const count = $(`#${key}-count`);
  if (count) count.textContent = total > rows.length ? `The ${rows.length} longest waiting of ${total}.` : total ? plural(total, "order") + "." : "";
}

async function loadWaiting(status) {
  const page = await get("/orders", { status, sort: "oldest", per_page: WAITING_SHOWN, embed: "customer" });
  const now = Date.now();
  const rows = page.items.map((order) =>
    h(
      "tr",
      { dataset: { orderId: order.id } },
      cell({ "data-label": "Order" }, orderLink(order)),
      cell({ "data-label": "Customer" }, customerLink(order)),
      cell({ class: "num", "data-label": "Total" }, money(order.total)),
      cell({ "data-label": "Waiting" }, h("span", { title: dateTime(order.created_at) }, age(order.created_at, now))),
    ),
  );
  showRows(status, rows, page.total);
}

async function loadLatest() {
  const page = await get("/orders", { per_page: LATEST_SHOWN, embed: "customer" });
  const rows = page.items.map((order) =>
    h(
      "tr",
      { dataset: { orderId: order.id } },
      cell({ "data-label": "Order" }, orderLink(order)),
      cell({ "data-label": "Customer" }, customerLink(order)),
      cell({ "data-label": "Placed" }, dateTime(order.created_at)),
      cell({ class: "num", "data-label": "Total" }, money(order.total)),
      cell({ "data-label": "Status" }, statusBadge(order.status)),
    ),
  );
  showRows("latest", rows, 0);
}

function stockRows(items, reload) {
  return items.map((item) =>
    h(
      "tr",
      { dataset: { bookId: item.book_id } },
      cell({ "data-label": "Book" }, h("a", { href: `/admin/books/${item.book_id}` }, item.title)),
      cell({ "data-label": "Author" }, item.author),
      cell({ class: "num", "data-label": "Stock" }, String(item.stock)),
      cell({ class: "num", "data-label": "Short by" }, String(item.shortfall)),
      cell({ "data-label": "Restock" }, restockForm(item, reload)),
    ),
  );
}

async function loadStock() {
  const report = await get("/reports/inventory", pageParams(["low_stock_threshold"]));
  fill(
    $("#inventory-stats"),
    stat("Titles", String(report.titles)),
    stat("Copies in stock", String(report.total_units)),
    stat("Stock value", money(report.inventory_value)),
    stat("Low on stock", String(report.low_stock_count)),
    stat("Out of stock", String(report.out_of_stock_count)),
  );
  for (const [key, items] of [["low", report.low_stock], ["out", report.out_of_stock]]) {
    $(`#${key}-empty`).hidden = items.length > 0;
    $(`#${key}-table`).hidden = items.length === 0;
    fill($(`#${key}-rows`), stockRows(items, loadStock));
  }
}

async function dashboard() {
  if (!requireAdmin()) return;
  const parts = [
    [loadSales, null],
    [() => loadWaiting("pending"), null],
    [() => loadWaiting("paid"), null],
    [loadLatest, null],
    [loadStock, $("#inventory-form")],
  ];
  // Each part shows its own problem and the others still load.
  await Promise.all(parts.map(([load, form]) => load().catch((err) => showProblem(err, { form, keep: true, focus: false }))));
}

start({ "admin-home": dashboard });
