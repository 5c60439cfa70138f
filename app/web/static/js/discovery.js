// Browsing aids: the home page's genre links, new arrivals and bestsellers, and the book page's
// "Customers also bought". Cards come from the page's own card builder, passed in by shop.js.
import { $, busy, fill, get, h, plural } from "./core.js";

const SHELF_SIZE = 4;
const RELATED_SIZE = 4;
// Any of these in the address means the visitor is searching: the shelves stay out of the way.
const SEARCH_PARAMS = ["q", "author", "genre", "min_price", "max_price", "in_stock", "sold", "cursor"];

function searching() {
  const params = new URLSearchParams(location.search);
  if (SEARCH_PARAMS.some((name) => (params.get(name) ?? "") !== "")) return true;
  return Number(params.get("page") || 1) > 1;
}

// A card's title one level below the section heading that holds it.
function underHeading(card) {
  const title = card.querySelector("h2.book-title");
  if (title) {
    const h3 = h("h3", { class: title.className });
    h3.append(...title.childNodes);
    title.replaceWith(h3);
  }
  return card;
}

function genreLink({ genre, books }) {
  const href = `/?${new URLSearchParams({ genre })}`;
  const [count, ...word] = plural(books, "book").split(" ");
  return h(
    "li",
    {},
    h("a", { href }, genre, " ", h("span", { class: "count" }, count), h("span", { class: "visually-hidden" }, ` ${word.join(" ")}`)),
  );
}

async function showGenres() {
  const data = await get("/genres");
  if (!data.items.length) return false;
  fill($("#genre-list"), data.items.map(genreLink));
  $("#genre-nav").hidden = false;
  return true;
}

async function showShelf(section, query, card) {
  const data = await get("/books", { ...query, per_page: SHELF_SIZE });
  if (!data.items.length) return false;
  fill($(`#${section}-books`), data.items.map((book) => underHeading(card(book))));
  $(`#${section}`).hidden = false;
  return true;
}

// The home page without a search: genre links with counts, new arrivals and bestsellers. A shelf
// that fails to load stays hidden; the catalogue below it does not depend on it.
export async function showBrowseSections({ card }) {
  const box = $("#discovery");
  if (!box) return;
  if (searching()) {
    busy(box, false);
    return;
  }
  const shown = await Promise.allSettled([
    showGenres(),
    showShelf("new-arrivals", { sort: "-created_at" }, card),
    showShelf("bestsellers", { sold: "true", sort: "-popularity" }, card),
  ]);
  box.hidden = !shown.some((result) => result.status === "fulfilled" && result.value);
  busy(box, false);
}

// The book page: books most often ordered with this one; hidden when there are none.
export async function showRelated(bookId, { card }) {
  const section = $("#related");
  if (!section) return;
  try {
    const data = await get(`/books/${bookId}/related`, { limit: RELATED_SIZE });
    fill($("#related-books"), data.items.map((book) => underHeading(card(book))));
    section.hidden = data.items.length === 0;
  } catch {
    section.hidden = true; // optional: the book itself is on the page already
  } finally {
    busy(section, false);
  }
}
