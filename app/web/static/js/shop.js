// The storefront: browse, book page, register, log in, cart, checkout, my orders and tracking.
import {
  $,
  announce,
  api,
  busy,
  cell,
  clearProblem,
  day,
  fill,
  get,
  h,
  hideAlert,
  loginHref,
  money,
  onSubmit,
  pageParams,
  plural,
  randomKey,
  renderPager,
  session,
  setCartCount,
  showProblem,
  start,
  withBusy,
  statusBadge,
  STATUS_LABELS,
  SESSION_HEADER,
  showNotFound,
  timeOf,
} from "./core.js";
import { accountPage } from "./account.js";
import { buyAgain } from "./reorder.js";
import { bookReviews, ratingSummary } from "./reviews.js";
import { showBrowseSections, showRelated } from "./discovery.js";
import { coverImage } from "./covers.js";

const BROWSE_PER_PAGE = 12;
const ORDERS_PER_PAGE = 10;

// --- shared --------------------------------------------------------------------------------------

// The page needs a signed-in customer: otherwise say so, with a link to log in, and stop.
function needCustomer(container, what) {
  if (session.signedIn()) return true;
  fill(
    container,
    h("p", { class: "notice" }, `Log in to see ${what}. `, h("a", { href: loginHref() }, "Log in"), " or ",
      h("a", { href: "/shop/register" }, "create an account"), "."),
  );
  container.hidden = false;
  busy(container, false);
  return false;
}

async function refreshCartCount() {
  const who = session.who;
  if (!session.signedIn() || !who || !who.customer_id) return;
  try {
    const cart = await get("/cart");
    setCartCount(cart.total_quantity);
  } catch {
    // Only the badge depends on this call; the cart page shows its own errors.
  }
}

async function addToCart(book, quantity, { form = null } = {}) {
  if (!session.signedIn()) {
    location.assign(loginHref());
    return;
  }
  const cart = await api("POST", "/cart", { book_id: book.id, quantity });
  setCartCount(cart.total_quantity);
  if (form) clearProblem(form);
  announce(
    `Added ${plural(quantity, "copy", "copies")} of “${book.title}” to your cart. `,
    h("a", { href: "/shop/cart" }, `View cart (${plural(cart.total_quantity, "item")})`),
  );
}

function stockText(stock) {
  if (stock <= 0) return h("span", { class: "stock-out" }, "Sold out");
  if (stock <= 5) return h("span", { class: "stock-low" }, `Only ${stock} left`);
  return h("span", { class: "stock-in" }, "In stock");
}

// --- browse --------------------------------------------------------------------------------------

function bookCard(book) {
  const button = h(
    "button",
    {
      type: "button",
      class: "add-to-cart",
      disabled: book.stock <= 0,
      // The visible words start the name (WCAG 2.5.3, label in name), the title tells the buttons apart.
      "aria-label": book.stock > 0 ? `Add to cart: “${book.title}”` : `Sold out: “${book.title}”`,
      dataset: { bookId: book.id },
    },
    book.stock > 0 ? "Add to cart" : "Sold out",
  );
  button.addEventListener("click", () =>
    withBusy(button, async () => {
      try {
        await addToCart(book, 1);
      } catch (err) {
        showProblem(err);
      }
    }),
  );
  return h(
    "li",
    { class: "book-card", dataset: { bookId: book.id } },
    coverImage(book),
    h("h2", { class: "book-title" }, h("a", { href: `/shop/books/${book.id}` }, book.title)),
    h("p", { class: "byline" }, book.author),
    h("p", { class: "rating" }, ratingSummary(book)),
    book.genre ? h("p", { class: "genre" }, book.genre) : null,
    h("p", { class: "card-foot" }, h("span", { class: "price" }, money(book.price)), " ", stockText(book.stock)),
    button,
  );
}

async function browse() {
  const form = $("#search");
  const results = $("#results");
  const count = $("#result-count");
  const params = pageParams(["q", "author", "genre", "min_price", "max_price", "in_stock", "sort", "page"]);
  busy(results, true);
  try {
    const data = await get("/books", { ...params, per_page: BROWSE_PER_PAGE });
    fill(results, data.items.map(bookCard));
    if (!data.items.length) {
      count.textContent = params.page > 1 ? "There are no more books on this page." : "No books match. Try fewer words or filters.";
    } else {
      const first = (data.page - 1) * data.per_page + 1;
      count.textContent = `${plural(data.total, "book")} found · showing ${first}–${first + data.items.length - 1}`;
    }
    renderPager($("#pager"), data);
  } catch (err) {
    count.textContent = "";
    showProblem(err, { form });
  } finally {
    busy(results, false);
  }
  refreshCartCount();
  showBrowseSections({ card: bookCard });
}

// --- book page -----------------------------------------------------------------------------------

async function bookPage() {
  const id = document.body.dataset.bookId;
  const article = $("#book");
  let book;
  try {
    book = await get(`/books/${id}`);
  } catch (err) {
    if (err.status === 404) {
      showNotFound({
        heading: "Book not found",
        text: `There is no book number ${id} in the shop: it may have been removed, or the link is wrong.`,
        href: "/",
        linkText: "Back to all books",
      });
      return;
    }
    $("#book-title").textContent = "This book could not be loaded";
    busy(article, false);
    $("#reviews").hidden = true;
    showProblem(err);
    return;
  }
  document.title = `${book.title} · Bookstore`;
  $("#book-title").textContent = book.title;
  $("#book-author").textContent = `by ${book.author}`;
  fill($("#book-cover"), coverImage(book, { large: true }));
  const facts = [
    ["Genre", book.genre],
    ["Published", book.published_year],
    ["ISBN", book.isbn],
    ["Copies in stock", String(book.stock)],
  ].filter(([, value]) => value !== null && value !== undefined && value !== "");
  fill($("#book-facts"), facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, String(value))]));
  $("#book-description").textContent = book.description || "";
  $("#book-price").textContent = money(book.price);
  fill($("#book-stock"), stockText(book.stock));
  fill($("#book-rating"), ratingSummary(book));
  busy(article, false);
  bookReviews(book, { ratingChanged: (fresh) => fill($("#book-rating"), ratingSummary(fresh)) });

  const form = $("#add-to-cart");
  if (!session.signedIn()) {
    $("#login-to-buy-link").href = loginHref();
    $("#login-to-buy").hidden = false;
  } else if (book.stock > 0) {
    form.elements.quantity.max = String(Math.min(book.stock, 100));
    form.hidden = false;
    const box = form.elements.quantity;
    let accepted = box.value;
    onSubmit(form, async (values) => {
      try {
        await addToCart(book, values.quantity ?? 1, { form });
        accepted = box.value;
      } catch (err) {
        // The refused number goes back to the last one accepted; the message says why.
        box.value = accepted;
        throw err;
      }
    });
  }
  refreshCartCount();
  showRelated(book.id, { card: bookCard });
}

// --- register and log in -------------------------------------------------------------------------

function nextPage(fallback) {
  const next = new URLSearchParams(location.search).get("next") || "";
  // Only a path on this site: "/x", never "//host" or "/\host".
  return /^\/(?![/\\])/.test(next) ? next : fallback;
}

async function signIn(username, password) {
  session.clear();
  // The refresh token comes back as an HttpOnly cookie for /token/refresh; the access token stays in memory.
  const tokens = await api("POST", "/login", { username, password, refresh_cookie: true }, { auth: false, headers: SESSION_HEADER });
  session.saveTokens(tokens);
  const who = session.saveWho(await api("GET", "/me"));
  location.assign(nextPage(who.role === "admin" ? "/admin" : "/"));
}

function loginPage() {
  const form = $("#login");
  if (new URLSearchParams(location.search).get("signed_out") === "everywhere") {
    announce("You are signed out on every device. Log in again to go on.");
  }
  onSubmit(form, (values) => signIn(values.username ?? "", values.password ?? ""));
  form.elements.username.focus();
}

function registerPage() {
  const form = $("#register");
  onSubmit(form, async (values) => {
    await api("POST", "/register", values, { auth: false });
    await signIn(values.username, values.password);
  });
  form.elements.name.focus();
}

// --- cart ----------------------------------------------------------------------------------------

function cartRow(line, onChange) {
  const qtyId = `qty-${line.book_id}`;
  const quantity = h("input", {
    id: qtyId,
    name: "quantity",
    type: "number",
    min: "0",
    max: "100",
    step: "1",
    inputmode: "numeric",
    value: String(line.quantity),
    class: "qty",
    dataset: { bookId: line.book_id },
  });
  const form = h(
    "form",
    { class: "row-form", novalidate: true },
    h("label", { for: qtyId, class: "visually-hidden" }, `Quantity of “${line.title}”`),
    quantity,
    h("button", { type: "submit", class: "small" }, "Update"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onChange("PUT", line, form);
  });
  quantity.addEventListener("change", () => onChange("PUT", line, form));
  const remove = h(
    "button",
    { type: "button", class: "small danger-link", "aria-label": `Remove “${line.title}” from the cart` },
    "Remove",
  );
  remove.addEventListener("click", () => onChange("DELETE", line, form));
  return h(
    "tr",
    { class: line.available ? "" : "unavailable", dataset: { bookId: line.book_id } },
    cell(
      { "data-label": "Book" },
      h("a", { href: `/shop/books/${line.book_id}`, class: "line-title" }, line.title),
      h("span", { class: "byline" }, ` by ${line.author}`),
      line.available ? null : h("p", { class: "warning" }, "Not enough copies in stock for this quantity."),
    ),
    cell({ class: "num", "data-label": "Price" }, money(line.unit_price)),
    cell({ "data-label": "Quantity" }, form),
    cell({ class: "num line-total", "data-label": "Line total" }, money(line.line_total)),
    cell({ "data-label": "" }, remove),
  );
}

async function cartPage() {
  const container = $("#cart");
  if (!needCustomer(container, "your cart")) return;
  let pending = Promise.resolve();

  const render = (cart, focusBookId = null) => {
    const empty = cart.items.length === 0;
    $("#cart-empty").hidden = !empty;
    $("#cart-table").hidden = empty;
    $("#cart-totals").hidden = empty;
    fill($("#cart-lines"), cart.items.map((line) => cartRow(line, change)));
    $("#cart-total-quantity").textContent = plural(cart.total_quantity, "copy", "copies");
    $("#cart-total").textContent = money(cart.total);
    setCartCount(cart.total_quantity);
    if (focusBookId !== null) {
      const input = $(`input.qty[data-book-id="${focusBookId}"]`);
      if (input) input.focus();
      else $("#main").focus();
    }
    busy(container, false);
  };

  // Changes run one after another, each answered with the whole cart and its totals.
  function change(method, line, form) {
    // An emptied box is someone still typing: wait for a number (0 removes the line).
    if (method === "PUT" && form.elements.quantity.value.trim() === "") return pending;
    pending = pending.then(async () => {
      try {
        const path = `/cart/${line.book_id}`;
        const cart =
          method === "DELETE"
            ? await api("DELETE", path)
            : await api("PUT", path, { quantity: Number(form.elements.quantity.value) });
        hideAlert($("#page-alert"));
        render(cart, method === "DELETE" ? null : line.book_id);
        announce(
          method === "DELETE" || Number(form.elements.quantity.value) === 0
            ? `Removed “${line.title}”. Total now ${money(cart.total)}.`
            : `Updated “${line.title}”. Total now ${money(cart.total)}.`,
        );
      } catch (err) {
        // The box goes back to the quantity the cart holds; the message next to it says why.
        if (form.isConnected) form.elements.quantity.value = String(line.quantity);
        showProblem(err, { form, alert: $("#page-alert") });
      }
    });
    return pending;
  }

  $("#cart-clear").addEventListener("click", async () => {
    if (!confirm("Remove every book from your cart?")) return;
    try {
      await api("DELETE", "/cart");
      render({ items: [], total_quantity: 0, total: "0.00" });
      announce("Your cart is empty.");
    } catch (err) {
      showProblem(err);
    }
  });

  try {
    render(await get("/cart"));
  } catch (err) {
    busy(container, false);
    showProblem(err);
  }
}

// --- checkout ------------------------------------------------------------------------------------

function shortagesList(problem, titles) {
  if (!Array.isArray(problem.shortages)) return null;
  return h(
    "ul",
    {},
    problem.shortages.map((s) =>
      h(
        "li",
        {},
        `${s.title || titles.get(s.book_id) || `Book ${s.book_id}`}: you asked for ${s.requested}, `,
        s.available > 0 ? `only ${s.available} left.` : "none left.",
      ),
    ),
  );
}

// Without an address typed in, the order goes to the saved default one; without that, one is required.
function showSavedAddress(form, saved) {
  const field = form.elements.shipping_address;
  if (saved) {
    const lines = [saved.name, saved.line1, saved.line2, `${saved.city} ${saved.postal_code}`, saved.country];
    $("#saved-address-text").textContent = lines.filter(Boolean).join("\n");
    $("#saved-address").hidden = false;
  } else {
    field.required = true;
    field.setAttribute("aria-required", "true");
    $("#checkout-shipping_address-hint").textContent = "Required: you have no saved address. Up to 500 characters.";
  }
}

async function checkoutPage() {
  const form = $("#checkout");
  const summary = $("#summary-lines");
  if (!needCustomer(form.parentElement, "the checkout")) {
    form.hidden = true;
    return;
  }
  const titles = new Map();
  // One key per visit of this page: a double click or a retry places one order, not two.
  const idempotencyKey = randomKey();
  try {
    const [cart, me] = await Promise.all([get("/cart"), get("/me")]);
    showSavedAddress(form, me.customer && me.customer.default_address);
    for (const line of cart.items) titles.set(line.book_id, line.title);
    fill(
      summary,
      cart.items.map((line) =>
        h("li", {}, h("span", {}, `${line.quantity} × ${line.title}`), h("span", { class: "num" }, money(line.line_total))),
      ),
    );
    $("#summary-total").textContent = money(cart.total);
    if (!cart.items.length) {
      fill(summary, h("li", {}, "Your cart is empty. ", h("a", { href: "/" }, "Browse the books")));
      $("#place-order").disabled = true;
    }
    setCartCount(cart.total_quantity);
  } catch (err) {
    showProblem(err);
  } finally {
    busy(summary, false);
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    return withBusy($("#place-order"), async () => {
      clearProblem(form);
      try {
        const address = form.elements.shipping_address.value.trim();
        const order = await api("POST", "/orders", address ? { shipping_address: address } : {}, {
          headers: { "Idempotency-Key": idempotencyKey },
        });
        location.assign(`/shop/orders/${order.id}?placed=1`);
      } catch (err) {
        showProblem(err, { form, extra: err.problem ? shortagesList(err.problem, titles) : null });
      }
    });
  });
}

// --- my orders -----------------------------------------------------------------------------------

// The books of an order in a line: the first titles, then how many more.
function orderTitles(items) {
  const shown = items.slice(0, 2).map((item) => (item.quantity > 1 ? `${item.title} × ${item.quantity}` : item.title));
  const more = items.length - shown.length;
  return more > 0 ? `${shown.join(", ")} and ${plural(more, "other book")}` : shown.join(", ");
}

async function ordersPage() {
  const table = $("#orders-table");
  if (!needCustomer($("#orders-empty"), "your orders")) return;
  const params = pageParams(["page"]);
  try {
    const data = await get("/orders", { ...params, per_page: ORDERS_PER_PAGE });
    $("#orders-empty").hidden = data.total > 0;
    table.hidden = data.items.length === 0;
    fill(
      $("#orders-rows"),
      data.items.map((order) =>
        h(
          "tr",
          { dataset: { orderId: order.id } },
          cell({ "data-label": "Order" }, h("a", { href: `/shop/orders/${order.id}` }, `Order ${order.id}`)),
          cell({ "data-label": "Books", class: "order-titles" }, orderTitles(order.items)),
          cell({ "data-label": "Placed" }, timeOf(order.created_at)),
          cell({ "data-label": "Status" }, statusBadge(order.status)),
          cell({ "data-label": "Expected delivery" }, order.expected_delivery_date ? day(order.expected_delivery_date) : "—"),
          cell({ class: "num", "data-label": "Items" }, String(order.items.reduce((n, i) => n + i.quantity, 0))),
          cell({ class: "num", "data-label": "Total" }, money(order.total)),
        ),
      ),
    );
    renderPager($("#pager"), data);
  } catch (err) {
    showProblem(err);
  }
  refreshCartCount();
}

// --- one order and its tracking ------------------------------------------------------------------

function timeline(tracking) {
  const reached = new Map(tracking.history.map((entry) => [entry.status, entry.at]));
  return tracking.steps.map((status) => {
    const at = reached.get(status);
    const current = status === tracking.status;
    return h(
      "li",
      { class: `step ${at ? "done" : "todo"}${current ? " current" : ""}`, "aria-current": current ? "step" : null },
      h("span", { class: "step-name" }, STATUS_LABELS[status] || status),
      h("span", { class: "step-at" }, at ? timeOf(at) : "not yet"),
    );
  });
}

function renderOrder(order, tracking) {
  fill($("#order-status"), STATUS_LABELS[tracking.status] || tracking.status);
  $("#order-status").className = `status-badge status-${tracking.status}`;
  let delivery;
  if (tracking.status === "cancelled") delivery = "This order was cancelled; nothing will be delivered.";
  else if (tracking.status === "delivered") delivery = `Delivered. It was expected on ${day(tracking.expected_delivery_date)}.`;
  else delivery = `Expected delivery: ${day(tracking.expected_delivery_date)}.`;
  fill($("#order-delivery"), h("span", { id: "expected-delivery" }, delivery), " Placed ", timeOf(tracking.placed_at), ".");
  fill($("#order-timeline"), timeline(tracking));
  fill(
    $("#order-lines"),
    order.items.map((item) =>
      h(
        "tr",
        {},
        cell({ "data-label": "Book" }, h("a", { href: `/shop/books/${item.book_id}` }, item.title)),
        cell({ class: "num", "data-label": "Price paid" }, money(item.unit_price)),
        cell({ class: "num", "data-label": "Quantity" }, String(item.quantity)),
        cell({ class: "num", "data-label": "Line total" }, money(item.line_total)),
      ),
    ),
  );
  $("#order-total").textContent = money(order.total);
  $("#order-address").textContent = order.shipping_address || "No address given.";
  $("#cancel-order").hidden = !order.next_statuses.includes("cancelled");
}

async function orderPage() {
  const id = document.body.dataset.orderId;
  const container = $("#order");
  if (!needCustomer($("#page-alert"), "this order")) {
    container.hidden = true;
    return;
  }
  const load = async () => {
    const [order, tracking] = await Promise.all([get(`/orders/${id}`), get(`/orders/${id}/tracking`)]);
    renderOrder(order, tracking);
    busy(container, false);
    return order;
  };
  let order;
  try {
    order = await load();
  } catch (err) {
    if (err.status === 404) {
      showNotFound({
        heading: "Order not found",
        text: `There is no order number ${id} among your orders.`,
        href: "/shop/orders",
        linkText: "Back to my orders",
      });
      return;
    }
    container.hidden = true;
    showProblem(err);
    return;
  }
  if (new URLSearchParams(location.search).get("placed")) {
    announce(`Thank you! Order ${id} is placed. You can follow it here.`);
    history.replaceState(null, "", location.pathname);
  }
  const again = $("#buy-again");
  again.addEventListener("click", () =>
    withBusy(again, async () => {
      try {
        const report = await buyAgain(order.items);
        if (report.cart) setCartCount(report.cart.total_quantity);
        fill($("#buy-again-report"), report.lines);
        $("#buy-again-report").hidden = false;
        announce(report.summary, " ", h("a", { href: "/shop/cart" }, "View cart"));
      } catch (err) {
        showProblem(err);
      }
    }),
  );
  const cancel = $("#cancel-order");
  cancel.addEventListener("click", () => {
    if (!confirm(`Cancel order ${id}? The books go back on the shelf.`)) return;
    withBusy(cancel, async () => {
      try {
        await api("POST", `/orders/${id}/cancel`);
        order = await load();
        announce(`Order ${id} is cancelled.`);
        $("#order-status").focus();
      } catch (err) {
        showProblem(err);
      }
    });
  });
  refreshCartCount();
}

start({
  browse,
  book: bookPage,
  login: loginPage,
  register: registerPage,
  cart: cartPage,
  checkout: checkoutPage,
  orders: ordersPage,
  order: orderPage,
  account: accountPage,
});
