// Shared by the storefront and the admin panel: the API client (the access token in memory, the
// refresh token in an HttpOnly cookie the script never sees, one refresh on a 401), DOM building
// without HTML strings, and the display of API problems in words next to the fields they name.
//
// Rule of this code base: data from the API only ever reaches the page as text (textContent,
// text nodes, attribute values), never as markup.

import { fieldName, fieldWords, problemWords, retryWords } from "./messages.js";

// Who is signed in (no token: username, role, ids), shared by the tabs so a new one knows to
// ask for an access token and can show the header at once.
const WHO_KEY = "bookstore.who";
const REFRESH_LOCK = "bookstore-refresh";
export const SESSION_HEADER = { "X-Session-Cookie": "1" };

// --- session -------------------------------------------------------------------------------------

let accessToken = null;

export const session = {
  get access() {
    return accessToken;
  },
  get who() {
    try {
      return JSON.parse(localStorage.getItem(WHO_KEY) || "null");
    } catch {
      return null;
    }
  },
  signedIn() {
    return Boolean(accessToken || this.who);
  },
  saveTokens(tokens) {
    if (tokens.access_token) accessToken = tokens.access_token;
  },
  saveWho(me) {
    const who = {
      username: me.account.username,
      role: me.account.role,
      account_id: me.account.id,
      customer_id: me.account.customer_id,
      name: me.customer ? me.customer.name : null,
    };
    localStorage.setItem(WHO_KEY, JSON.stringify(who));
    return who;
  },
  clear() {
    accessToken = null;
    localStorage.removeItem(WHO_KEY);
  },
};

// --- API client ----------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

const SESSION_ENDED = {
  title: "Unauthorized",
  status: 401,
  detail: "Your session has ended. Log in again to go on.",
};

async function problemOf(response) {
  let problem = null;
  if ((response.headers.get("Content-Type") || "").includes("json")) {
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
  }
  if (!problem || typeof problem !== "object") {
    problem = { title: response.statusText || "Error", detail: `The server answered ${response.status}.` };
  }
  const retryAfter = response.headers.get("Retry-After");
  if (retryAfter) problem.retry_after = retryAfter;
  return new ApiError(response.status, problem);
}

let refreshing = null;

// One POST /token/refresh from the cookie: true with a new access token, false when the session
// has ended (401: the server cleared the cookie). Anything else is thrown as a problem.
async function refreshFromCookie() {
  const response = await fetch("/token/refresh", {
    method: "POST",
    headers: { ...SESSION_HEADER, Accept: "application/json, application/problem+json" },
    cache: "no-store",
    credentials: "same-origin",
  });
  if (response.status === 401) return false;
  if (!response.ok) throw await problemOf(response);
  session.saveTokens(await response.json());
  return true;
}

// Trade the cookie for a new access token. Calls of this tab share one request, and the tabs
// take turns (Web Locks): a tab that refreshed with a cookie another tab had just used up would
// end the session, as a reused refresh token does.
function refreshAccess() {
  if (!session.signedIn()) return Promise.resolve(false);
  if (!refreshing) {
    const run = () => refreshFromCookie();
    const locked = navigator.locks ? navigator.locks.request(REFRESH_LOCK, run) : run();
    refreshing = locked.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

function sessionEnded() {
  session.clear();
  renderAccount();
  return new ApiError(401, SESSION_ENDED);
}

// fetch() with the bearer token. A page starts with no access token: a signed-in visitor's first
// call gets one from the cookie. A 401 is retried once after a refresh; any answer that is not
// 2xx becomes an ApiError carrying the problem details.
export async function request(method, path, { body, headers = {}, auth = true } = {}) {
  const attempt = () => {
    const sent = new Headers(headers);
    if (!sent.has("Accept")) sent.set("Accept", "application/json, application/problem+json");
    const raw = body instanceof Blob; // a file (a cover image) goes as it is, with the caller's Content-Type
    if (body !== undefined && !raw) sent.set("Content-Type", "application/json");
    if (auth && session.access) sent.set("Authorization", `Bearer ${session.access}`);
    return fetch(path, {
      method,
      headers: sent,
      body: body === undefined || raw ? body : JSON.stringify(body),
      cache: "no-store",
      // The only cookie is the refresh cookie, sent to its own path alone; the login and logout
      // answers set and clear it.
      credentials: "same-origin",
    });
  };
  let response;
  let ended = false;
  try {
    if (auth && !session.access && session.signedIn()) {
      ended = !(await refreshAccess());
      if (ended) {
        session.clear();
        renderAccount();
      }
    }
    response = await attempt();
    if (response.status === 401 && auth && (ended || session.signedIn())) {
      if (!ended && (await refreshAccess())) response = await attempt();
      else throw sessionEnded();
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, {
      title: "Network error",
      detail: "The server could not be reached. Check the connection and try again.",
    });
  }
  if (!response.ok) throw await problemOf(response);
  return response;
}

// A JSON call: the parsed body, or null for 204.
export async function api(method, path, body, options = {}) {
  const response = await request(method, path, { ...options, body });
  if (response.status === 204) return null;
  return response.json();
}

export function withQuery(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export const get = (path, params) => api("GET", withQuery(path, params));

// A random Idempotency-Key (crypto.getRandomValues works outside secure contexts too).
export function randomKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// --- DOM -----------------------------------------------------------------------------------------

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

// h("a", {href: "/x", class: "y", onclick: fn}, "text", child): an element; strings become text nodes.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) {
      // Handlers are functions; a string here would be code in an attribute.
      if (typeof value !== "function") throw new TypeError(`${key} must be a function`);
      el.addEventListener(key.slice(2), value);
    } else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// A table cell whose content sits in one box: on a phone the row is a card, and each cell a line
// of two columns, its data-label and that box.
export function cell(attrs, ...children) {
  return h("td", attrs, h("div", { class: "cell" }, ...children));
}

export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function busy(el, isBusy) {
  if (el) el.setAttribute("aria-busy", isBusy ? "true" : "false");
}

// --- formatting ----------------------------------------------------------------------------------

const CURRENCY = document.body.dataset.currency || "USD";
const MONEY = new Intl.NumberFormat("en-US", { style: "currency", currency: CURRENCY });
// Times in the viewer's own time zone, named, and in their locale; a calendar date (an expected
// delivery) is a day, not an instant, so it is shown as it is.
const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
  timeZoneName: "short",
});
const DATE = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });

// Money arrives as a decimal string ("12.50"); Intl formats the string exactly, with no float.
export const money = (value) => (value === null || value === undefined ? "" : MONEY.format(value));
export const dateTime = (iso) => (iso ? DATE_TIME.format(new Date(iso)) : "");

// A <time> element for an instant: the local time as text, the exact instant in `datetime`.
export const timeOf = (iso) => (iso ? h("time", { datetime: iso }, dateTime(iso)) : "");
export const day = (isoDate) => (isoDate ? DATE.format(new Date(`${isoDate}T00:00:00Z`)) : "");
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export const STATUS_LABELS = {
  pending: "Pending",
  paid: "Paid",
  shipped: "Shipped",
  delivered: "Delivered",
  cancelled: "Cancelled",
};

export function statusBadge(status) {
  return h("span", { class: `status-badge status-${status}` }, STATUS_LABELS[status] || status);
}

// --- messages and problems -----------------------------------------------------------------------

// A short confirmation in the polite live region at the top of the page.
export function announce(...content) {
  // A new message replaces the old one: an error banner still up is taken down.
  hideAlert($("#page-alert"));
  const status = $("#page-status");
  fill(status, h("p", {}, ...content));
  status.classList.add("shown");
}

// The field errors as [dotted path, sentences]: {default_address: {city: [..]}} gives "default_address.city".
function fieldErrors(messages, path = "") {
  if (Array.isArray(messages) && messages.every((m) => typeof m === "string")) {
    return [[path, messages.map((m) => fieldWords(path, m))]];
  }
  if (typeof messages === "string") return [[path, [fieldWords(path, messages)]]];
  if (Array.isArray(messages)) return messages.flatMap((m) => fieldErrors(m, path));
  if (messages && typeof messages === "object") {
    return Object.entries(messages).flatMap(([key, value]) => fieldErrors(value, path ? `${path}.${key}` : key));
  }
  return [[path, [String(messages)]]];
}

function alertOf(form) {
  return form ? form.querySelector(".alert") : null;
}

export function clearProblem(form) {
  if (!form) return;
  for (const p of $$(".field-error", form)) {
    p.hidden = true;
    p.textContent = "";
  }
  for (const el of $$("[aria-invalid]", form)) el.removeAttribute("aria-invalid");
  const alert = alertOf(form);
  if (alert) {
    alert.hidden = true;
    alert.replaceChildren();
  }
}

export function hideAlert(alert) {
  if (alert) {
    alert.hidden = true;
    alert.replaceChildren();
  }
}

let errorIds = 0;

// Put `text` next to the form control named `name`; false when the form has no such control.
function placeFieldError(form, name, text) {
  const control = form.elements.namedItem(name);
  if (!control || !(control instanceof Element)) return null;
  let slot = $$(".field-error", form).find((p) => p.dataset.errorFor === name);
  if (!slot) {
    errorIds += 1;
    slot = h("p", { class: "field-error", id: `field-error-${errorIds}`, dataset: { errorFor: name } });
    control.insertAdjacentElement("afterend", slot);
    const described = control.getAttribute("aria-describedby");
    control.setAttribute("aria-describedby", described ? `${described} ${slot.id}` : slot.id);
  }
  slot.textContent = text;
  slot.hidden = false;
  control.setAttribute("aria-invalid", "true");
  return control;
}

export function loginHref() {
  const next = location.pathname + location.search;
  return `/shop/login?next=${encodeURIComponent(next)}`;
}

// Show an error in words: the problem's title and detail in the form's alert (or `alert`, or the
// page's), each field error next to its field, the rest listed. `keep` adds to what is shown.
export function showProblem(err, { form = null, alert = null, extra = null, keep = false, focus = true } = {}) {
  const isApi = err instanceof ApiError;
  const problem = isApi ? err.problem : { title: "Something went wrong", detail: String(err?.message || err) };
  if (!isApi) console.error(err);
  if (form && !keep) clearProblem(form);
  const box = alert || alertOf(form) || $("#page-alert");
  const unplaced = [];
  let firstInvalid = null;
  for (const [field, texts] of fieldErrors(problem.errors || {})) {
    const control = form ? placeFieldError(form, field, texts.join(" ")) : null;
    if (control) firstInvalid = firstInvalid || control;
    else unplaced.push(...texts.map((t) => (field === "_schema" || !field ? t : `${fieldName(field)}: ${t}`)));
  }
  const words = isApi ? problemWords(problem, err.status) : problem;
  const parts = [h("p", { class: "alert-title" }, words.title || "Error"), words.detail ? h("p", {}, words.detail) : null];
  if (unplaced.length) parts.push(h("ul", {}, unplaced.map((t) => h("li", {}, t))));
  if (extra) parts.push(extra);
  if (problem.retry_after) parts.push(h("p", {}, retryWords(problem.retry_after)));
  if (isApi && err.status === 401 && location.pathname !== "/shop/login") {
    parts.push(h("p", {}, h("a", { href: loginHref() }, "Log in")));
  }
  if (keep && !box.hidden) append(box, [h("hr"), parts]);
  else fill(box, parts);
  box.hidden = false;
  // The newest message is the one shown: a confirmation still up is taken down.
  const status = $("#page-status");
  if (status) {
    status.replaceChildren();
    status.classList.remove("shown");
  }
  if (focus) {
    if (firstInvalid) firstInvalid.focus();
    else if (box.hasAttribute("tabindex")) box.focus();
  }
}

// --- forms ---------------------------------------------------------------------------------------

export class FormCheck extends Error {}

// The named controls as a JSON body: empty ones left out (a required one is then reported by the
// API), numbers as numbers, checkboxes as true when ticked. A number box holding something that
// is not a number is reported here, since the browser gives no value for it.
export function formValues(form) {
  const values = {};
  const errors = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || ["submit", "button", "reset"].includes(el.type)) continue;
    if (el.type === "checkbox") {
      if (el.checked) values[el.name] = true;
      continue;
    }
    if (el.type === "number" && el.validity.badInput) {
      errors[el.name] = ["Enter a number."];
      continue;
    }
    const value = el.type === "password" ? el.value : el.value.trim();
    if (value === "") continue;
    values[el.name] = el.type === "number" && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  if (Object.keys(errors).length) {
    throw new ApiError(0, { title: "Check the form", detail: "Some fields need a fix.", errors });
  }
  return values;
}

// Run `work` for a button, one run at a time. While it runs the button is aria-disabled, not
// disabled: a disabled button would drop the keyboard focus to the top of the page.
export async function withBusy(button, work) {
  if (!button) return work();
  if (button.getAttribute("aria-disabled") === "true") return undefined;
  button.setAttribute("aria-disabled", "true");
  try {
    return await work();
  } finally {
    button.removeAttribute("aria-disabled");
  }
}

// Handle a form's submit with `action(values)`; its problems are shown on the form; a second
// submit while the call runs is ignored.
export function onSubmit(form, action) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    return withBusy(form.querySelector("button[type=submit]"), async () => {
      try {
        clearProblem(form);
        await action(formValues(form), form);
      } catch (err) {
        showProblem(err, { form });
      }
    });
  });
}

// GET forms (search, filters) leave their empty fields out of the address.
function tidyGetForms() {
  for (const form of $$("form[method=get]")) {
    form.addEventListener("submit", () => {
      for (const el of form.elements) if (el.name && el.value === "" && el.type !== "submit") el.disabled = true;
    });
  }
  // Coming back with the history buttons shows the form as it was left: enabled.
  window.addEventListener("pageshow", () => {
    for (const el of $$("form[method=get] [name]")) el.disabled = false;
  });
}

// The search parameters of the page address as an object, empty ones left out.
export function pageParams(names) {
  const params = new URLSearchParams(location.search);
  const out = {};
  for (const name of names) {
    const value = params.get(name);
    if (value !== null && value !== "") out[name] = value;
  }
  return out;
}

// --- pagination ----------------------------------------------------------------------------------

// Links to pages of a list whose page number lives in the address under `param`.
export function renderPager(nav, { page, pages }, param = "page") {
  nav.replaceChildren();
  if (!pages || pages <= 1) return;
  const href = (n) => {
    const params = new URLSearchParams(location.search);
    params.set(param, String(n));
    return `${location.pathname}?${params}`;
  };
  const numbers = new Set([1, pages, page - 1, page, page + 1].filter((n) => n >= 1 && n <= pages));
  const list = h("ul");
  const item = (child) => list.append(h("li", {}, child));
  if (page > 1) item(h("a", { href: href(page - 1), rel: "prev" }, "← Previous"));
  let last = 0;
  for (const n of [...numbers].sort((a, b) => a - b)) {
    if (n - last > 1) item(h("span", { class: "gap", "aria-hidden": "true" }, "…"));
    item(
      n === page
        ? h("a", { href: href(n), "aria-current": "page", "aria-label": `Page ${n}, current page` }, String(n))
        : h("a", { href: href(n), "aria-label": `Page ${n}` }, String(n)),
    );
    last = n;
  }
  if (page < pages) item(h("a", { href: href(page + 1), rel: "next" }, "Next →"));
  nav.append(list);
}

// --- header --------------------------------------------------------------------------------------

export async function logout() {
  try {
    // With the bearer token (fetched from the cookie first if need be): the answer clears the cookie.
    if (session.signedIn()) await request("POST", "/logout");
  } catch {
    // The session is dropped here whatever the server said: the visitor asked to leave.
  }
  session.clear();
  location.assign("/");
}

export function renderAccount() {
  const area = $("#account-area");
  const who = session.signedIn() ? session.who : null;
  if (who) {
    fill(
      area,
      h("span", { class: "who" }, "Signed in as ", h("strong", {}, who.username)),
      h("a", { href: "/shop/account", "aria-current": location.pathname === "/shop/account" ? "page" : null }, "My account"),
      h("button", { type: "button", class: "link-button", onclick: logout }, "Log out"),
    );
  } else {
    fill(area, h("a", { href: loginHref() }, "Log in"), h("a", { href: "/shop/register" }, "Register"));
  }
  for (const el of $$("[data-admin-only]")) el.hidden = !(who && who.role === "admin");
}

// A page whose subject does not exist: its main region says so, with a way back, instead of an
// alert over an empty box.
export function showNotFound({ heading, text, href, linkText }) {
  hideAlert($("#page-alert"));
  document.title = `${heading} · Bookstore`;
  const main = $("#main");
  // The page's own content goes; the message regions stay for whatever comes next.
  for (const child of Array.from(main.children)) {
    if (child.id !== "page-alert" && child.id !== "page-status") child.remove();
  }
  main.append(
    h(
      "section",
      { class: "not-found", id: "not-found", "aria-labelledby": "not-found-title" },
      h("h1", { id: "not-found-title" }, heading),
      h("p", {}, text),
      h("p", {}, h("a", { href, class: "button primary" }, linkText)),
    ),
  );
  main.focus();
}

export function setCartCount(quantity) {
  const badge = $("#cart-count");
  if (!badge) return;
  badge.hidden = !quantity;
  badge.textContent = quantity ? String(quantity) : "";
  badge.setAttribute("aria-label", plural(quantity, "item"));
}

// Run the page's own code; anything it does not catch is still shown to the visitor.
export function start(pages) {
  renderAccount();
  // Signed in or out in another tab: this header follows.
  window.addEventListener("storage", (event) => {
    if (event.key === WHO_KEY || event.key === null) renderAccount();
  });
  tidyGetForms();
  const name = document.body.dataset.page;
  const run = pages[name];
  if (!run) return;
  Promise.resolve()
    .then(run)
    .catch((err) => showProblem(err));
}
