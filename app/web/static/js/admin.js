// The admin panel's lists: books, orders, customers (with their accounts), reports. The home
// page and the pages of one order, customer or book are their own modules (dashboard.js,
// orderpage.js, customerpage.js, bookpage.js).
import {
  $,
  announce,
  api,
  busy,
  cell,
  clearProblem,
  dateTime,
  fill,
  get,
  h,
  hideAlert,
  money,
  onSubmit,
  pageParams,
  plural,
  renderPager,
  request,
  showProblem,
  start,
  statusBadge,
  withQuery,
} from "./core.js";
import { loadChart, moveButtons, redrawOnResize, requireAdmin, restockForm, rowForm } from "./adminkit.js";
import { editCover } from "./covers.js";

// --- books ---------------------------------------------------------------------------------------

const BOOK_FIELDS = ["title", "author", "price", "genre", "isbn", "published_year", "description"];

async function booksPage() {
  if (!requireAdmin()) return;
  const params = pageParams(["q", "sort", "page"]);
  const editBox = $("#edit-book-box");
  const editForm = $("#book-edit");
  let editing = null;

  const load = async () => {
    let data;
    try {
      data = await get("/books", { ...params, per_page: 20 });
    } catch (err) {
      showProblem(err, { form: $("#book-search") });
      return;
    }
    $("#books-count").textContent = data.total
      ? `${plural(data.total, "book")} · page ${data.page} of ${data.pages}`
      : "No books match.";
    fill($("#books-rows"), data.items.map(bookRow));
    renderPager($("#pager"), data);
  };

  const bookRow = (book) => {
    const edit = h("button", { type: "button", class: "small", "aria-label": `Edit “${book.title}”` }, "Edit");
    edit.addEventListener("click", () => startEdit(book.id));
    const retire = h("button", { type: "button", class: "small danger", "aria-label": `Retire “${book.title}”` }, "Retire");
    retire.addEventListener("click", async () => {
      if (!confirm(`Remove “${book.title}” from the catalogue? If it was ever ordered it is kept for the order history.`)) return;
      try {
        await api("DELETE", `/books/${book.id}`);
        announce(`“${book.title}” is no longer in the catalogue.`);
        await load();
      } catch (err) {
        showProblem(err);
      }
    });
    const stockForm = rowForm({
      name: "stock",
      label: `Copies of “${book.title}” in stock`,
      value: String(book.stock),
      min: "0",
      button: "Set",
      onsubmit: async (values) => {
        const saved = await api("PUT", `/books/${book.id}/stock`, values);
        announce(`Stock of “${saved.title}” set to ${saved.stock}.`);
      },
    });
    const restock = restockForm({ ...book, shortfall: 1 }, async (saved) => {
      stockForm.elements.stock.value = String(saved.stock);
    });
    return h(
      "tr",
      { dataset: { bookId: book.id } },
      cell({ class: "num", "data-label": "ID" }, String(book.id)),
      cell({ "data-label": "Title" }, h("a", { href: `/admin/books/${book.id}`, class: "line-title" }, book.title)),
      cell({ "data-label": "Author" }, book.author),
      cell({ class: "num", "data-label": "Price" }, money(book.price)),
      cell({ "data-label": "Set stock" }, stockForm),
      cell({ "data-label": "Restock" }, restock),
      cell({ "data-label": "", class: "row-actions" }, edit, " ", retire),
    );
  };

  async function startEdit(id) {
    try {
      const book = await get(`/books/${id}`);
      editing = book;
      clearProblem(editForm);
      for (const name of BOOK_FIELDS) {
        const value = book[name];
        editForm.elements[name].value = value === null || value === undefined ? "" : String(value);
      }
      $("#edit-heading").textContent = `Edit book ${book.id}: ${book.title}`;
      editCover(book, load);
      editBox.hidden = false;
      $("#edit-heading").focus();
    } catch (err) {
      showProblem(err);
    }
  }

  onSubmit(editForm, async (values) => {
    // PUT replaces the descriptive fields: an emptied optional field is cleared, stock is kept.
    const saved = await api("PUT", `/books/${editing.id}`, values);
    editBox.hidden = true;
    announce(`Saved “${saved.title}”.`);
    await load();
  });
  $("#edit-cancel").addEventListener("click", () => {
    editBox.hidden = true;
    clearProblem(editForm);
  });

  const newForm = $("#book-new");
  onSubmit(newForm, async (values) => {
    const book = await api("POST", "/books", values);
    newForm.reset();
    announce(`Added “${book.title}” as book ${book.id}. `, h("a", { href: `/admin/books/${book.id}` }, "See its page"));
    await load();
  });
  await load();
}

// --- orders --------------------------------------------------------------------------------------

async function ordersPage() {
  if (!requireAdmin()) return;
  const form = $("#order-filters");
  const params = pageParams(["status", "q", "customer_id", "from", "to", "sort", "page"]);

  const orderRow = (order) => {
    const moves = moveButtons(order, (saved) => {
      const fresh = orderRow(saved);
      row.replaceWith(fresh);
      hideAlert($("#page-alert"));
      // The row was redrawn: keep the keyboard on it, on its next move or its link.
      (fresh.querySelector("button") || fresh.querySelector("a")).focus();
    });
    const customer =
      order.customer === null || order.customer === undefined
        ? h("span", { class: "muted" }, "deleted")
        : h("a", { href: `/admin/customers/${order.customer.id}` }, order.customer.name);
    const row = h(
      "tr",
      { dataset: { orderId: order.id, status: order.status } },
      cell({ "data-label": "Order" }, h("a", { href: `/admin/orders/${order.id}` }, `Order ${order.id}`)),
      cell({ "data-label": "Customer" }, customer),
      cell({ "data-label": "Placed" }, dateTime(order.created_at)),
      cell({ class: "num", "data-label": "Items" }, String(order.items.reduce((n, i) => n + i.quantity, 0))),
      cell({ class: "num", "data-label": "Total" }, money(order.total)),
      cell({ "data-label": "Status" }, statusBadge(order.status)),
      cell({ "data-label": "Move to", class: "row-actions" }, moves.length ? moves : h("span", { class: "muted" }, "final")),
    );
    return row;
  };

  try {
    const data = await get("/orders", { ...params, per_page: 20, embed: "customer" });
    $("#orders-count").textContent = data.total
      ? `${plural(data.total, "order")} · page ${data.page} of ${data.pages}`
      : "No orders match.";
    fill($("#orders-rows"), data.items.map(orderRow));
    renderPager($("#pager"), data);
  } catch (err) {
    showProblem(err, { form });
  }
}

// --- customers and accounts ----------------------------------------------------------------------

async function customersPage() {
  if (!requireAdmin()) return;
  const search = $("#customer-search");
  const params = pageParams(["q", "page"]);
  try {
    const data = await get("/customers", { ...params, per_page: 20 });
    $("#customers-count").textContent = data.total
      ? `${plural(data.total, "customer")} · page ${data.page} of ${data.pages}`
      : "No customers match.";
    fill(
      $("#customers-rows"),
      data.items.map((c) =>
        h(
          "tr",
          { dataset: { customerId: c.id } },
          cell({ class: "num", "data-label": "ID" }, String(c.id)),
          cell({ "data-label": "Name" }, h("a", { href: `/admin/customers/${c.id}` }, c.name)),
          cell({ "data-label": "Email" }, c.email),
          cell({ "data-label": "Username" }, c.account ? c.account.username : h("span", { class: "muted" }, "no login")),
          cell({ "data-label": "Role" }, c.account ? c.account.role : "—"),
          cell(
            { "data-label": "State" },
            !c.account ? "—" : c.account.is_active ? "Active" : h("strong", { class: "warning" }, "Deactivated"),
          ),
          cell({ "data-label": "Joined" }, dateTime(c.created_at)),
          cell({ "data-label": "" }, h("a", { href: withQuery("/admin/orders", { customer_id: c.id }), "aria-label": `Orders of ${c.name}` }, "Orders")),
        ),
      ),
    );
    renderPager($("#customers-pager"), data);
  } catch (err) {
    showProblem(err, { form: search });
  }
}

// --- reports -------------------------------------------------------------------------------------

function table(caption, headings, rows, foot = null) {
  return h(
    "table",
    { class: "data-table" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headings.map(([text, cls]) => h("th", { scope: "col", class: cls }, text)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map(([text, cls]) => h("td", { class: cls }, text))))),
    foot ? h("tfoot", {}, h("tr", {}, foot.map(([text, cls]) => h("td", { class: cls }, text)))) : null,
  );
}

const NUM = "num";

const REPORTS = {
  sales: {
    path: "/reports/sales",
    params: ["from", "to", "period"],
    render(report) {
      const t = report.totals;
      const summary = `${report.from} to ${report.to}, per ${report.period}: ${plural(t.orders, "order")}, ${plural(t.units, "copy", "copies")}, revenue ${money(t.revenue)}.`;
      const rows = report.series.map((p) => [[p.period_start, "nowrap"], [String(p.orders), NUM], [String(p.units), NUM], [money(p.revenue), NUM]]);
      return {
        summary,
        alt: `Chart of sales per ${report.period} from ${report.from} to ${report.to}: revenue ${money(t.revenue)} from ${plural(t.orders, "order")}.`,
        table: table(
          `Sales per ${report.period}`,
          [["Period from"], ["Orders", NUM], ["Copies", NUM], ["Revenue", NUM]],
          rows,
          [["Total"], [String(t.orders), NUM], [String(t.units), NUM], [money(t.revenue), NUM]],
        ),
      };
    },
  },
  popular: {
    path: "/reports/popular-books",
    params: ["from", "to", "limit"],
    render(report) {
      const rows = report.items.map((b, i) => [[String(i + 1), NUM], [b.title], [b.author], [String(b.units_sold), NUM], [money(b.revenue), NUM]]);
      const top = report.items[0];
      return {
        summary: top
          ? `${report.from} to ${report.to}: the best seller is “${top.title}” with ${plural(top.units_sold, "copy", "copies")}.`
          : `${report.from} to ${report.to}: nothing was sold.`,
        alt: `Chart of the most sold books from ${report.from} to ${report.to}.`,
        table: table(
          "Most sold books",
          [["#", NUM], ["Title"], ["Author"], ["Copies", NUM], ["Revenue", NUM]],
          rows,
        ),
      };
    },
  },
  inventory: {
    path: "/reports/inventory",
    params: ["low_stock_threshold"],
    render(report) {
      const list = (items) => items.map((b) => [[b.title], [b.author], [String(b.stock), NUM], [String(b.shortfall), NUM]]);
      const headings = [["Title"], ["Author"], ["Stock", NUM], ["Short by", NUM]];
      return {
        summary: `${plural(report.titles, "title")}, ${plural(report.total_units, "copy", "copies")} worth ${money(report.inventory_value)}; ${report.out_of_stock_count} out of stock, ${report.low_stock_count} with at most ${report.low_stock_threshold}.`,
        alt: `Chart of the stock: ${report.out_of_stock_count} titles out of stock and ${report.low_stock_count} low on stock.`,
        table: [
          table("Out of stock", headings, list(report.out_of_stock)),
          table(`Low on stock (at most ${report.low_stock_threshold})`, headings, list(report.low_stock)),
        ],
      };
    },
  },
};

function filenameOf(response, fallback) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/i.exec(disposition);
  return match ? match[1] : fallback;
}

// Links to the CSV need the token, so the click fetches the file and saves it from a blob.
function csvLink(link, url, alert) {
  link.href = url;
  link.onclick = async (event) => {
    event.preventDefault();
    try {
      const response = await request("GET", link.href, { headers: { Accept: "text/csv" } });
      const blob = await response.blob();
      const objectUrl = URL.createObjectURL(blob);
      const save = h("a", { href: objectUrl, download: filenameOf(response, "report.csv"), hidden: true });
      document.body.append(save);
      save.click();
      save.remove();
      setTimeout(() => URL.revokeObjectURL(objectUrl), 10_000);
      announce(`Downloaded ${save.download}.`);
    } catch (err) {
      showProblem(err, { alert });
    }
  };
}

async function reportsPage() {
  if (!requireAdmin()) return;
  const form = $("#report-form");
  const all = pageParams(["from", "to", "period", "limit", "low_stock_threshold"]);
  clearProblem(form);
  const charts = [];
  redrawOnResize(() => charts);
  await Promise.all(
    Object.entries(REPORTS).map(async ([key, spec]) => {
      const section = $(`#report-${key}`);
      const alert = $(`#${key}-alert`);
      const params = Object.fromEntries(spec.params.filter((p) => p in all).map((p) => [p, all[p]]));
      csvLink($(`#${key}-csv`), withQuery(spec.path, { ...params, format: "csv" }), alert);
      try {
        const report = await get(spec.path, params);
        const shown = spec.render(report);
        $(`#${key}-summary`).textContent = shown.summary;
        fill($(`#${key}-table`), shown.table);
        $(`#${key}-body`).hidden = false;
        const chart = [$(`#${key}-chart`), withQuery(spec.path, { ...params, format: "png" }), shown.alt];
        charts.push(chart);
        await loadChart(...chart);
      } catch (err) {
        // Field errors go next to the shared form; the detail into this report's own box.
        showProblem(err, { form, alert, keep: true, focus: false });
      } finally {
        busy(section, false);
      }
    }),
  );
}

start({
  "admin-books": booksPage,
  "admin-orders": ordersPage,
  "admin-customers": customersPage,
  "admin-reports": reportsPage,
});
