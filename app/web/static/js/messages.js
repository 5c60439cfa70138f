// What a shopper reads when something goes wrong: the API's problem types and field errors put
// into plain sentences. Every page script shows errors through core.js's showProblem, which asks
// this module for the words; nothing here touches the page.

// How a field is called in a sentence, for the errors that cannot sit next to a control.
const FIELD_NAMES = {
  author: "Author",
  book_id: "Book",
  city: "Town or city",
  country: "Country",
  current_password: "Current password",
  default_address: "Address",
  description: "Description",
  email: "Email",
  from: "From date",
  genre: "Genre",
  isbn: "ISBN",
  line1: "Address line 1",
  line2: "Address line 2",
  max_price: "Highest price",
  min_price: "Lowest price",
  name: "Name",
  new_password: "New password",
  page: "Page",
  password: "Password",
  per_page: "Results per page",
  phone: "Phone",
  postal_code: "Postcode",
  price: "Price",
  published_year: "Year published",
  q: "Search words",
  quantity: "Quantity",
  role: "Role",
  shipping_address: "Shipping address",
  sort: "Sort order",
  status: "Status",
  stock: "Stock",
  threshold: "Threshold",
  title: "Title",
  to: "To date",
  username: "Username",
};

// Bounds this large are the database's limits, not a rule a shopper needs to read.
const HUGE = 1_000_000;

export function fieldName(field) {
  const last = String(field).split(".").pop();
  return FIELD_NAMES[last] || last.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

function range(field, low, high) {
  const [a, b] = [Number(low), Number(high)];
  if (field === "quantity") return `Choose a quantity from ${a} to ${b}.`;
  if (b >= HUGE) return a <= 0 ? "Enter 0 or a larger number." : `Enter ${a} or a larger number.`;
  return `Enter a number from ${a} to ${b}.`;
}

// One API message about `field`, as a sentence for the shopper.
const RULES = [
  [/greater than or equal to (-?\d+) and less than or equal to (-?\d+)/i, (m, field) => range(field, m[1], m[2])],
  [/less than or equal to (-?\d+)/i, (m) => (Number(m[1]) >= HUGE ? "Enter a smaller number." : `Enter ${m[1]} or less.`)],
  [/greater than or equal to (-?\d+)/i, (m) => `Enter ${m[1]} or more.`],
  [/^Not a valid integer|^Not a valid number/i, () => "Enter a whole number, like 3."],
  [/^Not a valid email/i, () => "Enter an email address like name@example.com."],
  [/^Not a valid date/i, () => "Enter a date, like 2025-01-31."],
  [/^Not a valid boolean/i, () => "Choose yes or no."],
  [/^Missing data for required field/i, () => "Fill this in."],
  [/^Field may not be null/i, () => "Fill this in."],
  [/^Unknown field/i, () => "This page sent something the shop does not expect; reload the page and try again."],
  [/^Length must be between (\d+) and (\d+)/i, (m) => (Number(m[1]) > 1 ? `Use ${m[1]} to ${m[2]} characters.` : `Use at most ${m[2]} characters.`)],
  [/^(Shorter than minimum length|Length must be at least) (\d+)/i, (m) => `Use at least ${m[2]} characters.`],
  [/^(Longer than maximum length|Length must be at most) (\d+)/i, (m) => `Use at most ${m[2]} characters.`],
  [/^Must be one of/i, () => "Choose one of the options offered."],
  [/^Does not match the current password/i, () => "That is not your current password."],
  [/^Already taken/i, (m, field) => `This ${fieldName(field).toLowerCase()} is already in use; choose another.`],
  [/^The line would exceed (\d+) copies/i, (m) => `A cart holds at most ${m[1]} copies of one book.`],
  [/ISO 3166-1 alpha-2/i, () => "Enter the country's two-letter code, like GB or US."],
  [/^Must be greater than 0/i, () => "Enter an amount above 0."],
];

export function fieldWords(field, message) {
  const text = String(message);
  for (const [pattern, words] of RULES) {
    const match = text.match(pattern);
    if (match) return words(match, field);
  }
  // The API's own field messages are sentences already ("Must be an amount written like 12.50.").
  return text;
}

const SESSION_DETAIL = "Your session has ended. Log in again to go on.";

// The headline and the sentence of a problem, by its type and status.
export function problemWords(problem, status) {
  const type = problem.type || "about:blank";
  const code = status || problem.status || 0;
  const detail = problem.detail || "";
  if (code === 0) return { title: problem.title || "Something went wrong", detail };
  if (type.endsWith("/validation-error") || (code === 400 && problem.errors)) {
    return { title: "Please check what you entered", detail: "Some answers need a change: see the notes next to them." };
  }
  if (code === 400) return { title: "That did not work", detail: "The page sent something the shop could not read. Reload the page and try again." };
  if (code === 401) {
    // A token the server refuses is a session that ended; a failed login keeps its own words.
    const tokenTrouble = /token|authentication required|no longer exists/i.test(detail);
    return tokenTrouble
      ? { title: "You are not signed in", detail: SESSION_DETAIL }
      : { title: "Could not sign you in", detail: detail || "Check the username and password." };
  }
  if (code === 403) return { title: "Not allowed", detail: detail || "Your account may not do this." };
  if (code === 404) return { title: "Not found", detail: detail || "We could not find this." };
  if (type.endsWith("/insufficient-stock")) return { title: "Not enough copies in stock", detail };
  if (type.endsWith("/illegal-status-transition")) return { title: "This order cannot change that way", detail };
  if (code === 409) return { title: problem.errors ? "Already in use" : "That cannot be done now", detail };
  if (code === 412 || code === 428) return { title: "Someone else changed this", detail: "Reload the page to see the latest and try again." };
  if (code === 413) return { title: "Too much at once", detail: "That is more than the shop takes in one go." };
  if (code === 422) return { title: "That did not work", detail };
  if (code === 429) return { title: "Too many tries", detail: "Wait a little and try again." };
  if (code >= 500) {
    return { title: "The shop is having trouble", detail: "Something went wrong on our side. Try again in a moment." };
  }
  return { title: problem.title || "Something went wrong", detail };
}

// How long to wait, in words, from a Retry-After header (seconds).
export function retryWords(seconds) {
  const n = Number(seconds);
  if (!Number.isFinite(n) || n <= 0) return "Try again in a moment.";
  if (n < 90) return `Try again in ${Math.ceil(n)} second${Math.ceil(n) === 1 ? "" : "s"}.`;
  const minutes = Math.ceil(n / 60);
  return `Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
}
