// What the API answers in stable words (change names, next actions, reason codes), said to a
// person. The API keeps its own wording; these are the console's.

// Every change name the plans use (pipeline/customers/plan.py, pipeline/subscriptions/plan.py),
// as the thing that changes. One table: the plan popup and a run's items both read it.
export const CHANGE_WORDS = {
  // customers
  client: "client",
  azure_tenants: "Microsoft tenant link",
  main_site: "main site",
  main_site_address: "main site address",
  // subscriptions: a new licence, or its fields
  licence: "licence",
  client_id: "client",
  name: "name",
  count: "quantity",
  distributor: "distributor",
  manufacturer: "manufacturer",
  vendor: "vendor",
  product_sku: "stock code",
  vendor_product_sku: "Microsoft product and SKU",
  term_duration: "term",
  billing_cycle: "billing frequency",
  status: "status",
  is_active: "active flag",
  end_date: "end date",
  tenant_id: "Microsoft tenant",
  notes: "notes",
  parent_id: "base subscription",
};

function listed(words) {
  if (words.length < 2) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

function capital(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

// "New client with its Microsoft tenant link and main site", "Quantity and status updated".
export function changesInWords(item) {
  const words = (item.changes || []).map((c) => CHANGE_WORDS[c] || c);
  if (!words.length) return "";
  if (item.result === "created") {
    const [made, ...rest] = words;
    return capital(`new ${made}${rest.length ? ` with its ${listed(rest)}` : ""}`);
  }
  return capital(`${listed(words)} updated`);
}

// What importing an unmapped customer will do (GET /mappings' next_action).
export const NEXT_ACTION_WORDS = {
  create: "Creates a new Halo client",
  adopt: "Maps it to the Halo client with its Microsoft tenant",
  update: "Updates its Halo client",
  unchanged: "Nothing to change",
  hold: "Held for you to decide",
  skip: "Skipped",
  fail: "Refused",
};

// What importing an unmapped row will do, in words, and its badge's colour: as the run result it
// will be (a customer without a CSP tenant: as failed).
const NEXT_ACTION_KIND = { create: "created", adopt: "updated", update: "updated", hold: "skipped", fail: "failed" };

export function onImport(row) {
  if (!row.importable) return { text: "Not importable", kind: "failed" };
  return { text: NEXT_ACTION_WORDS[row.next_action] || "Not known until Halo can be read", kind: NEXT_ACTION_KIND[row.next_action] || "plain" };
}

const HELD_BY_NAME = new Set(["similar_client_exists", "ambiguous_name"]);

export function heldByName(held) {
  return HELD_BY_NAME.has(held.reason_code);
}

function clients(held) {
  return listed((held.suggestions || []).map((s) => `${s.halo_client_name} (#${s.halo_client_id})`));
}

// Why a customer is held, without the API's instructions (the screen offers them as buttons).
// `nameOf` names another Dicker Data customer by its id, where the screen knows it.
export function heldInWords(held, nameOf = () => null) {
  const namesakes = held.shares_name_with || [];
  if (namesakes.length) {
    const others = listed(namesakes.map((id) => nameOf(id) || id));
    const who = namesakes.length === 1 ? `Another Dicker Data customer, ${others}, has` : `Other Dicker Data customers, ${others}, have`;
    return `Not created: ${who} this name too, and one name must not become two Halo clients. Map each to its Halo client.`;
  }
  if (held.reason_code === "ambiguous_name") return `Not created: several Halo clients have this name: ${clients(held)}.`;
  return `Not created: Halo already has ${clients(held)}.`;
}
