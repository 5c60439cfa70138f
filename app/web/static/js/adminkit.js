// What the admin pages share: the admin gate, small row forms, restocking, the buttons that move
// an order along (drawn from the order's own `next_statuses`: the API owns the flow), tables in a
// scrolling region, and charts fetched with the token.
import { $, $$, announce, api, h, loginHref, onSubmit, plural, request, session, showNotFound, showProblem, withBusy, STATUS_LABELS } from "./core.js";

// The words on the button that moves an order to a status; which buttons exist is the API's answer.
const MOVE_LABELS = { paid: "Mark paid", shipped: "Mark shipped", delivered: "Mark delivered", cancelled: "Cancel order" };

// A page's subject failed to load: a missing one gets the not-found page with a way back to its
// list, anything else the problem in words over the hidden content.
export function subjectFailed(err, content, { noun, id, href, listName }) {
  if (err.status === 404) {
    showNotFound({
      heading: `${noun[0].toUpperCase()}${noun.slice(1)} not found`,
      text: `There is no ${noun} number ${id}: it may have been removed, or the link is wrong.`,
      href,
      linkText: `Back to ${listName}`,
    });
    return;
  }
  content.hidden = true;
  showProblem(err);
}

// Admin pages show their content only to a signed-in admin; anyone else is told why.
export function requireAdmin() {
  const who = session.signedIn() ? session.who : null;
  const gate = $("#admin-gate");
  $("#admin-gate-login").href = loginHref();
  if (!who) {
    $("#admin-gate-text").textContent = "This page is for administrators. Log in with an admin account.";
  } else if (who.role !== "admin") {
    $("#admin-gate-text").textContent = `You are signed in as ${who.username}, which is not an administrator account.`;
    $("#admin-gate-login").textContent = "Log in with another account";
  } else {
    for (const el of $$("[data-admin-content]")) el.hidden = false;
    return true;
  }
  gate.hidden = false;
  return false;
}

// A small form in a table row: one number box (with a hidden label) and a button.
export function rowForm({ name, label, value, min, button, onsubmit }) {
  const id = `${name}-${Math.random().toString(36).slice(2, 9)}`;
  const input = h("input", { id, name, type: "number", min, step: "1", inputmode: "numeric", value, class: "qty" });
  const form = h(
    "form",
    { class: "row-form", novalidate: true },
    h("label", { for: id, class: "visually-hidden" }, label),
    input,
    h("button", { type: "submit", class: "small" }, button),
  );
  onSubmit(form, (values) => onsubmit(values, form));
  return form;
}

export function restockForm(item, after) {
  return rowForm({
    name: "quantity",
    label: `Copies to add to “${item.title}”`,
    value: String(Math.max(item.shortfall ?? 1, 1)),
    min: "1",
    button: "Restock",
    onsubmit: async (values) => {
      const book = await api("POST", `/books/${item.book_id ?? item.id}/restock`, values);
      announce(`Restocked “${book.title}”: ${plural(book.stock, "copy", "copies")} in stock now.`);
      if (after) await after(book);
    },
  });
}

// One button per status the order may move to now; `moved(order)` gets the saved order.
export function moveButtons(order, moved, { small = true } = {}) {
  return order.next_statuses.map((status) => {
    const label = MOVE_LABELS[status] || `Mark ${STATUS_LABELS[status] || status}`;
    const cls = [small ? "small" : "", status === "cancelled" ? "danger" : ""].filter(Boolean).join(" ");
    const button = h("button", { type: "button", class: cls, "aria-label": `${label}: order ${order.id}`, dataset: { status } }, label);
    button.addEventListener("click", () => {
      if (status === "cancelled" && !confirm(`Cancel order ${order.id}? Its stock goes back on the shelf.`)) return;
      withBusy(button, async () => {
        try {
          const saved = await api("PATCH", `/orders/${order.id}/status`, { status });
          announce(`Order ${saved.id} is now ${STATUS_LABELS[saved.status].toLowerCase()}.`);
          await moved(saved);
        } catch (err) {
          showProblem(err);
        }
      });
    });
    return button;
  });
}

// "3 h", "2 days": how long ago an ISO time was, for orders that wait.
export function age(iso, now = Date.now()) {
  const minutes = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 60000));
  if (minutes < 60) return plural(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return plural(hours, "hour");
  return plural(Math.floor(hours / 24), "day");
}

// A table inside a focusable, labelled region that scrolls sideways on a narrow screen.
export function scrollTable(label, tableEl) {
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": label }, tableEl);
}

// A PNG chart of a report, drawn by the API for the width it is shown at and the screen's pixel
// density; `img` sits in a box whose width decides.
export async function loadChart(img, url, alt) {
  const box = img.parentElement;
  const width = Math.max(280, Math.min(2000, Math.floor(box.clientWidth || 1000)));
  const scale = Math.max(1, Math.min(3, Math.ceil(window.devicePixelRatio || 1)));
  const sized = `${url}${url.includes("?") ? "&" : "?"}width=${width}&scale=${scale}`;
  const response = await request("GET", sized, { headers: { Accept: "image/png" } });
  const blob = await response.blob();
  if (img.dataset.objectUrl) URL.revokeObjectURL(img.dataset.objectUrl);
  const objectUrl = URL.createObjectURL(blob);
  img.dataset.objectUrl = objectUrl;
  img.dataset.drawnWidth = String(width);
  img.alt = alt;
  img.width = width;
  img.src = objectUrl;
  await img.decode();
}

// Draw the charts again when their box changes width by more than a tenth (a phone turned, a
// window resized), once the resizing has settled.
export function redrawOnResize(charts) {
  let timer = null;
  window.addEventListener("resize", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      for (const [img, url, alt] of charts()) {
        const drawn = Number(img.dataset.drawnWidth || 0);
        const now = img.parentElement.clientWidth;
        if (drawn && Math.abs(now - drawn) > drawn / 10) loadChart(img, url, alt).catch((err) => showProblem(err));
      }
    }, 300);
  });
}
