// Small DOM helpers shared by the screens: elements, the error and status regions, dialogs,
// busy buttons, searchable pickers and tables.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") el.textContent = value;
    else if (key === "class") el.className = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

// Like replaceChildren, but skipping null/false children and flattening arrays, as h() does.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// An open modal dialog hides the page's alert region, so its error goes into the dialog.
function alertHost() {
  const dialogs = document.querySelectorAll("dialog[open] .dialog-alert");
  return dialogs.length ? dialogs[dialogs.length - 1] : document.getElementById("alert");
}

export function showError(error) {
  const host = alertHost();
  fill(
    host,
    h("p", { class: "alert-message" }, h("strong", { text: "Error: " }), error.message || String(error)),
    error.hint ? h("p", { class: "alert-hint" }, h("strong", { text: "What to try: " }), error.hint) : null,
    h("button", { type: "button", class: "link", onclick: () => clearError(host) }, "Dismiss"),
  );
  host.hidden = false;
}

export function clearError(host) {
  for (const el of host ? [host] : document.querySelectorAll(".alert, .dialog-alert")) {
    el.hidden = true;
    el.replaceChildren();
  }
}

export function say(text) {
  document.getElementById("status").textContent = text;
}

// Disabling a focused button drops focus to <body>: a dialog opened meanwhile gives it back here.
let lastBusy = null;

// Runs `work` with the button disabled and marked busy; a failure was already shown by api().
export async function busy(button, work) {
  const focused = document.activeElement === button;
  lastBusy = button;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } catch (error) {
    if (!(error && "status" in error)) showError(error);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    if (focused && button.isConnected && document.activeElement === document.body) button.focus();
  }
}

let dialogCount = 0;

// A modal <dialog>: focus goes to its first field or button and back to the opener on close.
// `describedBy`: the id of a paragraph of `body` read out with the title when it opens.
export function openDialog({ title, body, actions = [], wide = false, closeLabel = "Close", describedBy = null }) {
  const active = document.activeElement;
  const opener = active && active !== document.body ? active : lastBusy;
  const id = `dialog-title-${++dialogCount}`;
  const dialog = h(
    "dialog",
    { class: wide ? "wide" : null, "aria-labelledby": id, "aria-describedby": describedBy },
    h("h2", { id, text: title }),
    h("div", { class: "dialog-alert", role: "alert", hidden: true }),
    h("div", { class: "dialog-body" }, body),
    h(
      "div",
      { class: "dialog-actions" },
      actions,
      h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, closeLabel),
    ),
  );
  const closed = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) {
        opener.disabled = false;
        opener.focus();
      }
      resolve(dialog.returnValue);
    });
  });
  document.body.append(dialog);
  dialog.showModal();
  const first = dialog.querySelector("input, select, textarea, .dialog-actions button");
  if (first) first.focus();
  return { dialog, closed, close: (value) => dialog.close(value) };
}

// A searchable single choice: a search box filtering a listbox (a <select size>), both labelled.
export function picker({ id, label, options, empty = "Nothing to choose from." }) {
  const search = h("input", { type: "search", id: `${id}-search`, autocomplete: "off" });
  const select = h("select", { id, size: 7, required: true });
  const render = () => {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const shown = options.filter((o) => words.every((w) => o.text.toLowerCase().includes(w)));
    const chosen = select.value;
    select.replaceChildren(...shown.map((o) => h("option", { value: o.value, selected: o.value === chosen }, o.text)));
    if (!select.value && shown.length === 1) select.value = shown[0].value;
  };
  search.addEventListener("input", render);
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      select.focus();
      if (!select.value && select.options.length) select.selectedIndex = 0;
    }
  });
  render();
  const field = h(
    "fieldset",
    { class: "picker" },
    h("legend", { text: label }),
    h("label", { for: search.id, text: `Search ${label.toLowerCase()}` }),
    search,
    h("label", { for: id, class: "visually-hidden", text: label }),
    options.length ? select : h("p", { class: "muted", text: empty }),
  );
  return { field, select, search };
}

export function table({ caption, columns, rows, empty = "Nothing here yet.", id }) {
  if (!rows.length) return h("p", { class: "muted empty", id, text: empty });
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { id },
      caption ? h("caption", { text: caption }) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", text: c })))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
    ),
  );
}

export function fmtDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function badge(text, kind = text) {
  return h("span", { class: `badge badge-${kind}`, text });
}

export function field(label, input, help) {
  const helpId = help ? `${input.id}-help` : null;
  if (helpId) input.setAttribute("aria-describedby", helpId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: input.id }, label),
    input,
    help ? h("small", { id: helpId, class: "muted" }, help) : null,
  );
}

export function checkbox(id, label, checked) {
  const input = h("input", { type: "checkbox", id, checked: Boolean(checked) });
  return { input, el: h("div", { class: "check" }, input, h("label", { for: id, text: label })) };
}

export function heading(text, ...rest) {
  return h("div", { class: "screen-head" }, h("h1", { tabindex: "-1", text }), rest);
}
