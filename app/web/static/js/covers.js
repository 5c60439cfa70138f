// Book covers on the pages: the thumbnail on a browse card, the full cover on the book page, a
// placeholder when a book has none, and the admin's upload, preview and removal.
import { $, announce, clearProblem, fill, h, request, showProblem, withBusy } from "./core.js";

// The boxes the API fits its images into (docs/api.md, "Covers"): the width and height attributes
// reserve the space before the image arrives, so the page does not jump.
const THUMBNAIL = { width: 200, height: 300 };
const COVER = { width: 600, height: 900 };
const ACCEPTED = ["image/jpeg", "image/png", "image/webp"];
const MAX_BYTES = 5 * 1024 * 1024;

// The cover of `book` as an <img> (lazy-loaded, "Cover of …"), or a placeholder that repeats no
// text for screen readers (the title is next to it).
export function coverImage(book, { large = false } = {}) {
  const url = large ? book.cover_url : book.cover_thumbnail_url;
  const size = large ? COVER : THUMBNAIL;
  const kind = large ? "cover cover-large" : "cover";
  if (!url) {
    return h("div", { class: `${kind} cover-placeholder`, "aria-hidden": "true" }, h("span", {}, book.title));
  }
  return h("img", {
    class: kind,
    src: url,
    alt: `Cover of ${book.title}`,
    width: size.width,
    height: size.height,
    loading: large ? "eager" : "lazy",
    decoding: "async",
  });
}

// --- the admin's cover editor (the "Edit book" box of /admin/books) ------------------------------

let editing = null;
let afterChange = null;
let previewUrl = null;

function showPreview(content) {
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
  fill($("#cover-preview"), content);
}

function showCurrent(book) {
  showPreview(coverImage(book, { large: true }));
  $("#cover-remove").hidden = !book.cover_url;
  $("#cover-state").textContent = book.cover_url ? "The cover shown in the shop." : "This book has no cover yet.";
}

// A file the API would refuse for its type or size is refused here already, in the same words: the
// server closes the connection after refusing a large unread body, so the browser would report a
// network failure instead of the API's 413.
function localProblem(file) {
  if (!file) return { title: "No image chosen", detail: "Choose a JPEG, PNG or WebP image first." };
  if (file.type && !ACCEPTED.includes(file.type)) {
    return { title: "Unsupported image", detail: `${file.name} is not a JPEG, PNG or WebP image.` };
  }
  if (file.size > MAX_BYTES) {
    return { title: "Image too large", detail: `${file.name} is larger than 5 MiB.` };
  }
  return null;
}

function wire() {
  const form = $("#cover-form");
  const input = form.elements.file;
  input.addEventListener("change", () => {
    clearProblem(form);
    const file = input.files[0];
    const problem = localProblem(file);
    if (problem) {
      showCoverProblem(form, { local: problem });
      return;
    }
    showPreview(null);
    previewUrl = URL.createObjectURL(file);
    fill($("#cover-preview"), h("img", { class: "cover cover-large", src: previewUrl, alt: `Preview of ${file.name}` }));
    $("#cover-state").textContent = "Preview: not uploaded yet.";
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    withBusy(form.querySelector("button[type=submit]"), async () => {
      clearProblem(form);
      const file = input.files[0];
      const problem = localProblem(file);
      try {
        if (problem) {
          showCoverProblem(form, { local: problem });
          return;
        }
        const response = await request("PUT", `/books/${editing.id}/cover`, {
          body: file,
          headers: { "Content-Type": file.type || "application/octet-stream" },
        });
        editing = await response.json();
        form.reset();
        showCurrent(editing);
        announce(`New cover saved for “${editing.title}”.`);
        if (afterChange) await afterChange();
      } catch (err) {
        showCoverProblem(form, err);
      }
    });
  });
  $("#cover-remove").addEventListener("click", (event) =>
    withBusy(event.currentTarget, async () => {
      clearProblem(form);
      try {
        await request("DELETE", `/books/${editing.id}/cover`);
        editing = { ...editing, cover_url: null, cover_thumbnail_url: null };
        showCurrent(editing);
        announce(`Removed the cover of “${editing.title}”.`);
        if (afterChange) await afterChange();
      } catch (err) {
        showCoverProblem(form, err);
      }
    }),
  );
}

function showCoverProblem(form, err) {
  if (!err.local) {
    showProblem(err, { form }); // the API names the image `file` in `errors`: shown next to the file input
    return;
  }
  const input = form.elements.file;
  const slot = form.querySelector(".field-error[data-error-for='file']");
  slot.textContent = `${err.local.title}: ${err.local.detail}`;
  slot.hidden = false;
  input.setAttribute("aria-invalid", "true");
  input.focus();
}

// Show the cover editor for `book`; `onChange` runs after an upload or a removal.
export function editCover(book, onChange) {
  if (!editing) wire();
  editing = book;
  afterChange = onChange;
  const form = $("#cover-form");
  form.reset();
  clearProblem(form);
  showCurrent(book);
}
