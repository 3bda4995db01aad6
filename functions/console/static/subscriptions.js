// Subscriptions: pick mapped customers (search, select all), then Import Subscriptions: the
// plan first, the run on confirm.
import { api } from "./api.js";
import { planThenRun } from "./runs.js";
import { busy, h, heading, showError } from "./ui.js";

export async function render() {
  const overview = await api("/mappings");
  const rows = overview.mappings.map((m, index) => {
    const box = h("input", { type: "checkbox", id: `sub-customer-${index}`, value: m.dicker_customer_id, class: "pick" });
    const row = h("li", { "data-name": m.dicker_customer_name.toLowerCase() }, box, h("label", { for: box.id }, m.dicker_customer_name, h("span", { class: "muted", text: ` → ${m.halo_client_name}` })));
    return { row, box };
  });
  const search = h("input", { type: "search", id: "sub-search", autocomplete: "off" });
  const all = h("input", { type: "checkbox", id: "sub-select-all" });
  const count = h("p", { id: "sub-count", role: "status" });
  const visible = () => rows.filter((r) => !r.row.hidden);
  const update = () => {
    const chosen = rows.filter((r) => r.box.checked).length;
    count.textContent = `${chosen} of ${rows.length} customers selected`;
    const shown = visible();
    all.checked = shown.length > 0 && shown.every((r) => r.box.checked);
  };
  search.addEventListener("input", () => {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    for (const r of rows) r.row.hidden = !words.every((w) => r.row.dataset.name.includes(w));
    update();
  });
  all.addEventListener("change", () => {
    for (const r of visible()) r.box.checked = all.checked;
    update();
  });
  for (const r of rows) r.box.addEventListener("change", update);
  update();

  const run = h("button", { type: "button", id: "import-subscriptions" }, "Import Subscriptions");
  run.addEventListener("click", () =>
    busy(run, async () => {
      const ids = rows.filter((r) => r.box.checked).map((r) => r.box.value);
      if (!ids.length) {
        showError({ message: "No customer is selected.", hint: "Tick the customers whose subscriptions to import, or Select all." });
        return;
      }
      await planThenRun("/subscriptions/import", { customer_ids: ids }, { title: "Import Subscriptions: the plan", confirmLabel: "Start import" });
    }),
  );

  return h(
    "section",
    {},
    heading("Subscriptions"),
    h("p", { class: "lead", text: "Only mapped customers' subscriptions can be imported; they appear in Halo with Dicker Data as the distributor." }),
    rows.length
      ? [
          h("div", { class: "field" }, h("label", { for: search.id, text: "Search customers" }), search),
          h("div", { class: "check" }, all, h("label", { for: all.id, text: "Select all" })),
          h("fieldset", {}, h("legend", { text: "Mapped customers" }), h("ul", { class: "pick-list", id: "sub-customers" }, rows.map((r) => r.row))),
          count,
        ]
      : h("p", { class: "muted", text: "No customer is mapped yet: map them on Customers first." }),
    h("div", { class: "actions" }, run),
  );
}
