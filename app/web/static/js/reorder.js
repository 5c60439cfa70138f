// "Buy again": an order's lines put back into the cart, one POST /cart each, saying for every book
// what happened (added, fewer copies than asked because the stock is short, sold out, no longer sold).
import { ApiError, api, h, plural } from "./core.js";

// Add one order line; the answer is [what happened, the cart after it or null].
async function addLine(item) {
  try {
    const cart = await api("POST", "/cart", { book_id: item.book_id, quantity: item.quantity });
    return [`“${item.title}”: ${plural(item.quantity, "copy", "copies")} added.`, cart];
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const type = err.problem.type || "";
    if (err.status === 404) return [`“${item.title}” is no longer sold, so it was left out.`, null];
    if (type.endsWith("/insufficient-stock")) {
      const available = Math.min(...(err.problem.shortages || []).map((s) => s.available));
      if (!(available > 0)) return [`“${item.title}” is sold out, so it was left out.`, null];
      // As many as the shop has: the line is set to the whole stock (under the line's limit, or
      // the API would have answered that limit's 409 first).
      const cart = await api("PUT", `/cart/${item.book_id}`, { quantity: available });
      return [`“${item.title}”: only ${available} in stock, so your cart now holds ${available}.`, cart];
    }
    if (err.status === 409) return [`“${item.title}”: your cart already holds as many copies as it can.`, null];
    throw err;
  }
}

export async function buyAgain(items) {
  const lines = [];
  let cart = null;
  let added = 0;
  // One after another: each answer is the whole cart, the last one is the cart as it now is.
  for (const item of items) {
    const [text, after] = await addLine(item);
    lines.push(h("li", {}, text));
    if (after) {
      cart = after;
      added += 1;
    }
  }
  const summary =
    added === items.length
      ? `All ${plural(items.length, "book")} of this order are in your cart.`
      : `${added} of ${plural(items.length, "book")} of this order went into your cart; see below.`;
  return { cart, lines, summary };
}
