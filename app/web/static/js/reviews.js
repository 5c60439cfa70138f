// Ratings and reviews: the stars of a card or a book page, and the reviews section of the book page
// (the list with its sort and pages, helpful votes, the buyer's form, the author's edit and delete,
// and the admin's hide and unhide). Review text is data: it only ever reaches the page as text.
import {
  $,
  announce,
  api,
  ApiError,
  busy,
  clearProblem,
  dateTime,
  fill,
  get,
  h,
  loginHref,
  pageParams,
  plural,
  renderPager,
  session,
  showProblem,
  withBusy,
} from "./core.js";

const REVIEWS_PER_PAGE = 10;
const SORTS = ["newest", "helpful"];

// "4.50" → "4.5", "4.00" → "4": the average as people write it (the string is exact, two places).
const averageText = (value) => String(Number(value));

// The stars of a rating and their words: "4.5 out of 5, 12 reviews" (the text alternative).
export function ratingSummary(book) {
  if (!book.rating_count) return h("span", { class: "rating-none" }, "No reviews yet");
  const average = averageText(book.rating_average);
  const words = `${average} out of 5, ${plural(book.rating_count, "review")}`;
  return h(
    "span",
    { class: "rating-summary", role: "img", "aria-label": words, title: words },
    stars(Math.round(Number(book.rating_average))),
    h("span", { class: "rating-number" }, `${average} (${plural(book.rating_count, "review")})`),
  );
}

function stars(count) {
  return h("span", { class: "stars", "aria-hidden": "true" }, "★".repeat(count) + "☆".repeat(5 - count));
}

function reviewStars(rating) {
  return h("span", { class: "rating-summary", role: "img", "aria-label": `${rating} out of 5` }, stars(rating));
}

// --- the book page -------------------------------------------------------------------------------

// Set up the reviews section for `book`; `ratingChanged(book)` is called with the book as the API
// answers it after every change that moves its rating.
export function bookReviews(book, { ratingChanged }) {
  const section = $("#reviews");
  const form = $("#review-form");
  const who = session.signedIn() ? session.who : null;
  const isAdmin = Boolean(who && who.role === "admin");
  const params = pageParams(["reviews_sort", "reviews_page"]);
  const state = {
    sort: SORTS.includes(params.reviews_sort) ? params.reviews_sort : "newest",
    page: Math.max(1, Number.parseInt(params.reviews_page || "1", 10) || 1),
    mine: null,
    editing: false,
  };
  const sort = $("#review-sort");
  sort.value = state.sort;
  sort.addEventListener("change", () => {
    const query = new URLSearchParams(location.search);
    query.set("reviews_sort", sort.value);
    query.delete("reviews_page");
    location.assign(`${location.pathname}?${query}#reviews`);
  });

  async function refreshBook() {
    ratingChanged(await get(`/books/${book.id}`));
  }

  // The caller's own review first: the list leaves the helpful button off it.
  async function everything() {
    await loadMine();
    await Promise.all([loadList(), loadHidden()]);
  }

  // --- the signed-in customer's own review, or why they cannot write one ---

  async function loadMine() {
    const area = $("#review-mine");
    form.hidden = true;
    if (!who) {
      fill(area, h("p", { class: "notice" }, h("a", { href: loginHref(), id: "review-login" }, "Log in"), " to review this book."));
      return;
    }
    let mine;
    try {
      mine = await get(`/books/${book.id}/reviews/mine`);
    } catch (err) {
      fill(area);
      showProblem(err, { focus: false });
      return;
    }
    state.mine = mine.review;
    if (mine.review) {
      fill(area, ownReview(mine.review));
    } else if (mine.can_review) {
      fill(area);
      openForm(null);
    } else {
      fill(area, h("p", { class: "notice", id: "review-not-buyer" }, "You can review this book once you have bought it."));
    }
  }

  function ownReview(review) {
    const edit = h("button", { type: "button", id: "review-edit" }, "Edit my review");
    const remove = h("button", { type: "button", class: "danger", id: "review-delete" }, "Delete my review");
    edit.addEventListener("click", () => openForm(review));
    remove.addEventListener("click", () => {
      if (!confirm("Delete your review of this book?")) return;
      withBusy(remove, async () => {
        try {
          await api("DELETE", `/reviews/${review.id}`);
          announce("Your review is deleted.");
          await Promise.all([refreshBook(), everything()]);
        } catch (err) {
          showProblem(err);
        }
      });
    });
    return h(
      "div",
      { class: "own-review", id: "own-review" },
      h("h3", {}, "Your review"),
      review.hidden
        ? h("p", { class: "notice warning", id: "own-review-hidden" }, `A moderator has hidden your review: ${review.hidden_reason}`)
        : null,
      reviewBody(review),
      h("p", { class: "actions" }, edit, " ", remove),
    );
  }

  function openForm(review) {
    state.editing = Boolean(review);
    clearProblem(form);
    form.reset();
    $("#review-form-heading").textContent = review ? "Edit your review" : "Write a review";
    $("#review-submit").textContent = review ? "Save changes" : "Post review";
    $("#review-cancel").hidden = !review;
    if (review) {
      form.elements.rating.value = String(review.rating);
      form.elements.title.value = review.title || "";
      form.elements.body.value = review.body || "";
    }
    form.hidden = false;
    if (review) form.elements.rating[review.rating - 1].focus();
  }

  // The body as typed (the API keeps it exactly); an empty optional field is null.
  function formBody() {
    const rating = Number(form.elements.rating.value);
    if (!rating) {
      throw new ApiError(0, { title: "Check the form", detail: "Choose a rating from 1 to 5 stars.", errors: {} });
    }
    const text = (name) => (form.elements[name].value.trim() === "" ? null : form.elements[name].value);
    return { rating, title: text("title"), body: text("body") };
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    withBusy($("#review-submit"), async () => {
      try {
        clearProblem(form);
        const body = formBody();
        if (state.editing && state.mine) await api("PATCH", `/reviews/${state.mine.id}`, body);
        else await api("POST", `/books/${book.id}/reviews`, body);
        announce(state.editing ? "Your review is saved." : "Thank you! Your review is posted.");
        await Promise.all([refreshBook(), everything()]);
      } catch (err) {
        showProblem(err, { form });
      }
    });
  });
  $("#review-cancel").addEventListener("click", () => {
    form.hidden = true;
    $("#review-edit")?.focus();
  });

  // --- the public list ---

  async function loadList() {
    const list = $("#review-list");
    busy(section, true);
    try {
      const data = await get(`/books/${book.id}/reviews`, { sort: state.sort, page: state.page, per_page: REVIEWS_PER_PAGE });
      fill(list, data.items.map(reviewItem));
      $("#review-count").textContent = data.total
        ? `${plural(data.total, "review")}${data.pages > 1 ? ` · page ${data.page} of ${data.pages}` : ""}`
        : "No reviews yet.";
      renderPager($("#review-pager"), data, "reviews_page");
    } catch (err) {
      showProblem(err, { focus: false });
    } finally {
      busy(section, false);
    }
  }

  function reviewBody(review) {
    return [
      h("p", { class: "review-head" }, reviewStars(review.rating), " ", review.title ? h("strong", { class: "review-title" }, review.title) : null),
      h("p", { class: "review-meta" }, `${review.author_name} · ${dateTime(review.created_at)} · verified purchase`),
      review.body ? h("p", { class: "review-text" }, review.body) : null,
    ];
  }

  function reviewItem(review) {
    const own = state.mine && state.mine.id === review.id;
    const helpful = h("span", { class: "helpful-count" }, helpfulText(review.helpful_count));
    const actions = h("p", { class: "actions" }, helpful);
    if (who && !own) actions.append(" ", helpfulButton(review, helpful));
    if (isAdmin) actions.append(" ", hideControl(review));
    return h("li", { class: "review", dataset: { reviewId: review.id } }, reviewBody(review), actions);
  }

  function helpfulText(count) {
    return count ? `${plural(count, "person", "people")} found this helpful.` : "";
  }

  function helpfulButton(review, countEl) {
    let voted = false;
    const button = h("button", { type: "button", class: "small helpful", "aria-pressed": "false" }, "Helpful");
    button.addEventListener("click", () =>
      withBusy(button, async () => {
        try {
          const updated = await api(voted ? "DELETE" : "PUT", `/reviews/${review.id}/helpful`);
          voted = !voted;
          button.setAttribute("aria-pressed", String(voted));
          button.textContent = voted ? "Helpful ✓" : "Helpful";
          countEl.textContent = helpfulText(updated.helpful_count);
        } catch (err) {
          showProblem(err);
        }
      }),
    );
    return button;
  }

  function hideControl(review) {
    const open = h("button", { type: "button", class: "small danger" }, "Hide…");
    const reason = h("input", { type: "text", name: "reason", maxlength: "500", "aria-label": "Reason for hiding", required: true });
    const confirmButton = h("button", { type: "submit", class: "small danger" }, "Hide review");
    const hideForm = h("form", { class: "hide-form", novalidate: true, hidden: true }, reason, " ", confirmButton);
    open.addEventListener("click", () => {
      hideForm.hidden = false;
      reason.focus();
    });
    hideForm.addEventListener("submit", (event) => {
      event.preventDefault();
      withBusy(confirmButton, async () => {
        try {
          await api("POST", `/reviews/${review.id}/hide`, { reason: reason.value });
          announce("The review is hidden.");
          await Promise.all([refreshBook(), everything()]);
        } catch (err) {
          showProblem(err);
        }
      });
    });
    return h("span", { class: "hide-control" }, open, hideForm);
  }

  // --- the admin's hidden reviews of this book ---

  async function loadHidden() {
    const box = $("#review-moderation");
    if (!isAdmin) return;
    try {
      const data = await get("/reviews", { hidden: "true", book_id: book.id, per_page: 100 });
      box.hidden = !data.items.length;
      fill($("#review-hidden-list"), data.items.map(hiddenItem));
    } catch (err) {
      showProblem(err, { focus: false });
    }
  }

  function hiddenItem(review) {
    const unhide = h("button", { type: "button", class: "small" }, "Unhide");
    unhide.addEventListener("click", () =>
      withBusy(unhide, async () => {
        try {
          await api("POST", `/reviews/${review.id}/unhide`);
          announce("The review is visible again.");
          await Promise.all([refreshBook(), everything()]);
        } catch (err) {
          showProblem(err);
        }
      }),
    );
    return h(
      "li",
      { class: "review hidden-review", dataset: { reviewId: review.id } },
      reviewBody(review),
      h("p", { class: "notice warning" }, `Hidden: ${review.hidden_reason}`),
      h("p", { class: "actions" }, unhide),
    );
  }

  return everything();
}
