// One book for the admin: its stock (set or restock), the stock history (copies added by an admin
// and copies sold, per day, as a small SVG chart, and the admin's stock changes), the edit form
// and retiring it.
import { $, announce, api, busy, clearProblem, dateTime, fill, get, h, onSubmit, plural, showProblem, start } from "./core.js";
import { requireAdmin, restockForm, rowForm, subjectFailed } from "./adminkit.js";
import { editCover } from "./covers.js";

const SVG = "http://www.w3.org/2000/svg";
const BOOK_FIELDS = ["title", "author", "price", "genre", "isbn", "published_year", "description"];
const REASONS = { created: "Added with the book", set: "Stock set", restock: "Restocked" };
const bookId = () => document.body.dataset.bookId;
let shownHistory = null;

// The chart is drawn again for its new width once a resize has settled.
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (shownHistory) fill($("#history-chart"), stockChart(shownHistory, chartWidth()));
  }, 200);
});

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

// Copies added rise above the middle line, copies sold hang below it; one column per day. Drawn
// for the width it is shown at (`width` CSS pixels), so its text keeps its size on a phone.
export function stockChart(history, width) {
  const days = history.days;
  const height = 200;
  const left = 64;
  const mid = height / 2;
  const room = mid - 22;
  const top = Math.max(1, ...days.map((d) => d.added));
  const bottom = Math.max(1, ...days.map((d) => d.sold));
  const step = (width - left - 4) / Math.max(days.length, 1);
  const barWidth = Math.max(1, step * 0.7);
  const t = history.totals;
  const chart = svg(
    "svg",
    {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": `From ${history.from} to ${history.to}: ${plural(t.added, "copy", "copies")} added, ${plural(t.removed, "copy", "copies")} taken away, ${plural(t.sold, "copy", "copies")} sold.`,
      class: "stock-svg",
    },
    svg("line", { x1: left, x2: width, y1: mid, y2: mid, class: "axis" }),
    svg("text", { x: left - 4, y: 14, class: "tick", "text-anchor": "end" }, `${top} added`),
    svg("text", { x: left - 4, y: height - 20, class: "tick", "text-anchor": "end" }, `${bottom} sold`),
    svg("text", { x: left, y: height - 4, class: "tick" }, history.from),
    svg("text", { x: width - 2, y: height - 4, class: "tick", "text-anchor": "end" }, history.to),
  );
  days.forEach((d, i) => {
    const x = left + i * step + (step - barWidth) / 2;
    const group = svg("g", { "data-day": d.day }, svg("title", {}, `${d.day}: ${d.added} added, ${d.sold} sold`));
    if (d.added) {
      const tall = (d.added / top) * room;
      group.append(svg("rect", { x, y: mid - tall, width: barWidth, height: tall, class: "bar-added", "data-added": d.added }));
    }
    if (d.sold) {
      const tall = (d.sold / bottom) * room;
      group.append(svg("rect", { x, y: mid, width: barWidth, height: tall, class: "bar-sold", "data-sold": d.sold }));
    }
    chart.append(group);
  });
  return chart;
}

const chartWidth = () => Math.max(300, Math.round($("#history-chart").clientWidth || 640));

function renderHistory(history) {
  const t = history.totals;
  $("#history-summary").textContent = `${history.from} to ${history.to}: ${plural(t.added, "copy", "copies")} added, ${plural(t.removed, "copy", "copies")} taken away, ${plural(t.sold, "copy", "copies")} sold.`;
  fill($("#history-chart"), stockChart(history, chartWidth()));
  shownHistory = history;
  fill(
    $("#movements-rows"),
    history.movements.length
      ? history.movements.map((m) =>
          h(
            "tr",
            {},
            h("td", {}, dateTime(m.at)),
            h("td", {}, REASONS[m.reason] || m.reason),
            h("td", { class: "num" }, m.change > 0 ? `+${m.change}` : String(m.change)),
            h("td", { class: "num" }, String(m.stock_after)),
          ),
        )
      : h("tr", {}, h("td", { colspan: "4", class: "muted" }, "No stock change by an admin in this range.")),
  );
  busy($("#stock-history"), false);
}

async function loadHistory(days) {
  const to = new Date();
  const from = new Date(to.getTime() - (days - 1) * 86400000);
  renderHistory(await get(`/books/${bookId()}/stock-history`, { from: isoDay(from), to: isoDay(to) }));
}

function renderBook(book, reloadAll) {
  $("#book-heading").textContent = book.title;
  document.title = `Admin: ${book.title} · Bookstore`;
  $("#book-stock").textContent = plural(book.stock, "copy", "copies");
  const setForm = rowForm({
    name: "stock",
    label: `Copies of “${book.title}” in stock`,
    value: String(book.stock),
    min: "0",
    button: "Set stock",
    onsubmit: async (values) => {
      const saved = await api("PUT", `/books/${book.id}/stock`, values);
      announce(`Stock of “${saved.title}” set to ${saved.stock}.`);
      await reloadAll();
    },
  });
  const restock = restockForm({ ...book, shortfall: 1 }, reloadAll);
  fill($("#stock-forms"), setForm, restock);
}

async function bookPage() {
  if (!requireAdmin()) return;
  const editForm = $("#book-edit");
  const historyForm = $("#history-form");
  const days = () => Number(historyForm.elements.days.value);
  let book;
  const reloadAll = async () => {
    book = await get(`/books/${bookId()}`);
    renderBook(book, reloadAll);
    await loadHistory(days());
  };
  try {
    book = await get(`/books/${bookId()}`);
  } catch (err) {
    subjectFailed(err, $("#admin-book"), { noun: "book", id: bookId(), href: "/admin/books", listName: "all books" });
    return;
  }
  renderBook(book, reloadAll);
  editCover(book);
  for (const name of BOOK_FIELDS) {
    const value = book[name];
    editForm.elements[name].value = value === null || value === undefined ? "" : String(value);
  }
  busy($("#admin-book"), false);

  onSubmit(editForm, async (values) => {
    // PUT replaces the descriptive fields: an emptied optional field is cleared, stock is kept.
    const saved = await api("PUT", `/books/${book.id}`, values);
    book = saved;
    renderBook(saved, reloadAll);
    announce(`Saved “${saved.title}”.`);
  });
  onSubmit(historyForm, () => loadHistory(days()));
  const retire = $("#retire-book");
  retire.addEventListener("click", async () => {
    if (!confirm(`Remove “${book.title}” from the catalogue? If it was ever ordered it is kept for the order history.`)) return;
    try {
      await api("DELETE", `/books/${book.id}`);
      location.assign("/admin/books");
    } catch (err) {
      showProblem(err);
    }
  });
  try {
    clearProblem(historyForm);
    await loadHistory(days());
  } catch (err) {
    showProblem(err, { form: historyForm });
  }
}

start({ "admin-book": bookPage });
