// Customers: the Customer Mappings table, Generate Mappings, Add (two searchable pickers),
// remove, the unmapped customers with what importing each will do and one-click suggestions,
// then the import options and Import Customers (the plan first, the run on confirm; a held
// customer's choices, map or create anyway, as buttons in the plan too).
import { api } from "./api.js";
import { planThenRun } from "./runs.js";
import { append, badge, busy, checkbox, field, fmtDate, h, heading, openDialog, picker, say, table } from "./ui.js";
import { heldByName, heldInWords, onImport } from "./words.js";

const IMPORT = "/customers/import";
const PLAN = { title: "Import Customers: the plan", confirmLabel: "Start import" };

function mapButton(customer, client, onClick) {
  const button = h("button", { type: "button", class: "small secondary suggestion", "aria-label": `Map ${customer} to ${client.halo_client_name} (#${client.halo_client_id})` }, `${client.halo_client_name} (#${client.halo_client_id})`);
  button.addEventListener("click", () => busy(button, onClick));
  return button;
}

function createAnywayButton(customer, onClick) {
  const button = h("button", { type: "button", class: "small secondary create-anyway", "aria-label": `Create anyway: ${customer} as a new Halo client` }, "Create anyway");
  button.addEventListener("click", () => busy(button, onClick));
  return button;
}

function mapTo(customerId, clientId) {
  return api("/mappings", { method: "POST", body: { dicker_customer_id: customerId, halo_client_id: clientId } });
}

// The import of one held customer with create_when_similar: its plan first, as every import.
function createAnyway(body, id, name) {
  return { body: { ...body, customer_ids: [id], create_when_similar: true }, title: `Import Customers: create ${name} anyway` };
}

export async function render(ctx) {
  const [overview, settings, topLevels] = await Promise.all([
    api("/mappings"),
    api("/settings"),
    api("/halo/top-levels", { quiet: true }).catch((error) => ({ top_levels: [], error })),
  ]);
  const section = h("section", {});
  const rerender = async () => {
    const fresh = await render(ctx);
    if (ctx.alive) section.replaceWith(fresh);
  };

  const generate = h("button", { type: "button", id: "generate-mappings" }, "Generate Mappings");
  const add = h("button", { type: "button", id: "add-mapping", class: "secondary" }, "Add");
  generate.addEventListener("click", () =>
    busy(generate, async () => {
      const answer = await api("/mappings/generate", { method: "POST" });
      await rerender();
      say(`Generate Mappings created ${answer.created.length}; ${answer.already_mapped} were already mapped, ${answer.unmatched.length} unmatched, ${answer.ambiguous.length} ambiguous.`);
    }),
  );
  add.addEventListener("click", () => busy(add, () => addDialog(overview, rerender)));

  const mappingRows = overview.mappings.map((m) => {
    const remove = h("button", { type: "button", class: "danger small", "aria-label": `Remove the mapping of ${m.dicker_customer_name}` }, "Remove");
    remove.addEventListener("click", () =>
      busy(remove, async () => {
        await api(`/mappings/${encodeURIComponent(m.dicker_customer_id)}`, { method: "DELETE" });
        await rerender();
        say(`Removed the mapping of ${m.dicker_customer_name}.`);
      }),
    );
    return [m.dicker_customer_name, `${m.halo_client_name} (#${m.halo_client_id})`, m.source, fmtDate(m.created_at), remove];
  });

  const names = new Map(overview.unmapped.map((u) => [u.dicker_customer_id, u.dicker_customer_name]));
  const unmappedRows = overview.unmapped.map((u) => {
    const name = u.dicker_customer_name;
    const buttons = u.suggestions.map((s) =>
      mapButton(name, s, async () => {
        await mapTo(u.dicker_customer_id, s.halo_client_id);
        await rerender();
        say(`Mapped ${name} to ${s.halo_client_name}.`);
      }),
    );
    if (u.create_when_similar_creates) {
      buttons.push(
        createAnywayButton(name, () => {
          const step = createAnyway(importBody(), u.dicker_customer_id, name);
          return planThenRun(IMPORT, step.body, { ...PLAN, title: step.title });
        }),
      );
    }
    const why = u.next_action === "hold" && heldByName(u) ? heldInWords(u, (id) => names.get(id)) : u.reason || "";
    const will = onImport(u);
    return [name, badge(will.text, will.kind), why, buttons.length ? h("div", { class: "suggestions" }, buttons) : h("span", { class: "muted", text: "none" })];
  });

  // Import options: kept in the settings, so the schedule's imports use them too.
  const topLevel = h(
    "select",
    { id: "top-level" },
    h("option", { value: "", text: "(none: Halo's default)" }),
    topLevels.top_levels.map((t) => h("option", { value: String(t.top_level_id), selected: t.top_level_id === settings.top_level_id }, `${t.top_level_name} (#${t.top_level_id})`)),
  );
  const address = checkbox("update-main-site-address", "Update main site address", settings.update_main_site_address);
  const saveOptions = () =>
    api("/settings", {
      method: "PUT",
      body: { top_level_id: topLevel.value ? Number(topLevel.value) : null, update_main_site_address: address.input.checked },
    }).then(() => say("Import options saved."));
  topLevel.addEventListener("change", saveOptions);
  address.input.addEventListener("change", saveOptions);

  const importBody = () => ({ top_level_id: topLevel.value ? Number(topLevel.value) : null, update_main_site_address: address.input.checked });
  const importButton = h("button", { type: "button", id: "import-customers" }, "Import Customers");
  importButton.addEventListener("click", () =>
    busy(importButton, async () => {
      let mapped = false;
      // A held customer's choices in the plan: map it (then the plan is worked out again), or
      // create it anyway (that customer's own plan first).
      const actions = (item, body, next) => {
        if (item.type !== "customer" || item.result !== "skipped" || !heldByName(item)) return [];
        const buttons = item.suggestions.map((s) =>
          mapButton(item.name, s, async () => {
            await mapTo(item.dicker_id, s.halo_client_id);
            mapped = true;
            next({ body, note: `Mapped ${item.name} to ${s.halo_client_name} (#${s.halo_client_id}). The plan is worked out again.` });
          }),
        );
        if (item.create_when_similar_creates) buttons.push(createAnywayButton(item.name, () => next(createAnyway(body, item.dicker_id, item.name))));
        return [item.suggestions.length ? h("span", { class: "muted", text: "Map to:" }) : null, buttons];
      };
      const started = await planThenRun(IMPORT, importBody(), { ...PLAN, actions });
      if (!started && mapped) {
        await rerender(); // the mapping is on the screen; focus stays on Import Customers
        document.getElementById("import-customers")?.focus();
      }
    }),
  );

  append(section, [
    heading("Customers", h("div", { class: "actions" }, generate, add)),
    overview.warnings?.length ? h("div", { class: "warning" }, overview.warnings.map((w) => h("p", { text: w }))) : null,
    h("h2", { text: "Customer Mappings" }),
    table({ id: "mappings-table", columns: ["Dicker Data customer", "Halo client", "Source", "Date", ""], rows: mappingRows, empty: "No mappings yet: Generate Mappings maps exact name matches." }),
    h("h2", { text: "Unmapped customers" }),
    table({ id: "unmapped-table", columns: ["Dicker Data customer", "On import", "Why", "Map to (one click), or create anyway"], rows: unmappedRows, empty: "Every customer is mapped." }),
    h(
      "h2",
      { text: "Import" },
    ),
    h(
      "div",
      { class: "options" },
      field("Top Level", topLevel, topLevels.error ? `Halo's top levels could not be read: ${topLevels.error.message}` : "Where new Halo clients are created."),
      address.el,
    ),
    h("div", { class: "actions" }, importButton),
  ]);
  return section;
}

async function addDialog(overview, rerender) {
  const clients = await api("/halo/clients");
  const customers = picker({
    id: "add-customer",
    label: "Dicker Data customer",
    options: overview.unmapped.filter((u) => u.dicker_customer_id).map((u) => ({ value: u.dicker_customer_id, text: u.dicker_customer_name })),
    empty: "Every Dicker Data customer with a CSP tenant is mapped.",
  });
  const halo = picker({
    id: "add-client",
    label: "Halo client",
    options: clients.clients.map((c) => ({ value: String(c.halo_client_id), text: `${c.halo_client_name} (#${c.halo_client_id})` })),
  });
  const save = h("button", { type: "button", id: "add-save" }, "Add");
  const { close } = openDialog({ title: "Add a mapping", body: [customers.field, halo.field], actions: [save] });
  save.addEventListener("click", () =>
    busy(save, async () => {
      if (!customers.select.value || !halo.select.value) {
        throw Object.assign(new Error("Choose a Dicker Data customer and a Halo client."), { hint: "Search, then pick one in each list." });
      }
      const mapping = await api("/mappings", { method: "POST", body: { dicker_customer_id: customers.select.value, halo_client_id: Number(halo.select.value) } });
      close("added");
      await rerender();
      say(`Mapped ${mapping.dicker_customer_name} to ${mapping.halo_client_name}.`);
    }),
  );
}
