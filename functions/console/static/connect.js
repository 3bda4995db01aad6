// Connect: where Dicker Data and Halo are and the credentials to reach them. Secrets are
// write-only: the API only says whether one is set, and a blank field keeps the stored one.
import { api } from "./api.js";
import { badge, busy, field, h, heading, openDialog, say } from "./ui.js";

const SECRETS = [
  ["dicker_data_access_token", "API token"],
  ["halo_client_id", "Client ID"],
  ["halo_client_secret", "Client secret"],
];

function select(id, value, options) {
  return h("select", { id }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

function text(id, value, attrs = {}) {
  return h("input", { type: "text", id, value: value ?? "", autocomplete: "off", ...attrs });
}

function secret(id, isSet) {
  return h("input", {
    type: "password",
    id,
    autocomplete: "new-password",
    placeholder: isSet ? "set: leave blank to keep" : "not set",
  });
}

function secretLabel(label, isSet) {
  return [label, " ", isSet ? badge("set") : badge("not set", "unset")];
}

export async function render() {
  const settings = await api("/settings");
  const inputs = {
    region: select("region", settings.region, [
      ["AU", "Australia (AU)"],
      ["NZ", "New Zealand (NZ)"],
    ]),
    environment: select("environment", settings.environment, [
      ["production", "Production"],
      ["test", "Test"],
    ]),
    dicker_data_account_code: text("dicker_data_account_code", settings.dicker_data_account_code),
    dicker_data_base_url: text("dicker_data_base_url", settings.dicker_data_base_url, { type: "url" }),
    halo_api_url: text("halo_api_url", settings.halo_api_url, { type: "url", placeholder: "https://yourcompany.halopsa.com/api" }),
    halo_auth_url: text("halo_auth_url", settings.halo_auth_url, { type: "url" }),
    halo_tenant: text("halo_tenant", settings.halo_tenant),
  };
  for (const [key] of SECRETS) inputs[key] = secret(key, settings[`${key}_set`]);

  // Only what the form holds: blank secrets are left out so the stored ones stay.
  const values = () => {
    const body = {
      region: inputs.region.value,
      environment: inputs.environment.value,
      dicker_data_account_code: inputs.dicker_data_account_code.value.trim() || null,
      dicker_data_base_url: inputs.dicker_data_base_url.value.trim() || null,
      halo_api_url: inputs.halo_api_url.value.trim() || null,
      halo_auth_url: inputs.halo_auth_url.value.trim() || null,
      halo_tenant: inputs.halo_tenant.value.trim() || null,
    };
    for (const [key] of SECRETS) if (inputs[key].value) body[key] = inputs[key].value;
    return body;
  };

  const save = h("button", { type: "submit", id: "save-settings" }, "Save");
  const test = h("button", { type: "button", id: "test-config", class: "secondary" }, "Test Configuration");
  const form = h(
    "form",
    { id: "connect-form", novalidate: true },
    h(
      "fieldset",
      {},
      h("legend", { text: "Dicker Data" }),
      h(
        "div",
        { class: "grid" },
        field("Region", inputs.region),
        field("Environment", inputs.environment),
        field("Account code", inputs.dicker_data_account_code),
        field(secretLabel("API token", settings.dicker_data_access_token_set), inputs.dicker_data_access_token, "From your Dicker Data account manager."),
      ),
      h(
        "details",
        {},
        h("summary", { text: "Advanced" }),
        field("Base URL override", inputs.dicker_data_base_url, `In use: ${settings.dicker_data_effective_base_url}`),
      ),
    ),
    h(
      "fieldset",
      {},
      h("legend", { text: "Halo" }),
      h(
        "div",
        { class: "grid" },
        field("Halo URL", inputs.halo_api_url, "Your Halo's API address, ending in /api."),
        field("Tenant", inputs.halo_tenant, "Hosted Halo only; leave blank otherwise."),
        field(secretLabel("Client ID", settings.halo_client_id_set), inputs.halo_client_id),
        field(secretLabel("Client secret", settings.halo_client_secret_set), inputs.halo_client_secret),
      ),
      h("details", {}, h("summary", { text: "Advanced" }), field("Auth URL", inputs.halo_auth_url, "Blank: derived from the Halo URL.")),
    ),
    h("div", { class: "actions" }, save, test),
  );

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, async () => {
      const saved = await api("/settings", { method: "PUT", body: values() });
      say("Settings saved.");
      for (const [key, label] of SECRETS) {
        inputs[key].value = "";
        inputs[key].placeholder = saved[`${key}_set`] ? "set: leave blank to keep" : "not set";
        form.querySelector(`label[for="${key}"]`).replaceChildren(...secretLabel(label, saved[`${key}_set`]));
      }
      form.querySelector("#save-settings").after(h("span", { class: "saved", id: "saved-note", text: "Saved" }));
      setTimeout(() => document.getElementById("saved-note")?.remove(), 3000);
    });
  });

  test.addEventListener("click", () =>
    busy(test, async () => {
      say("Testing the connections…");
      const result = await api("/config/test", { method: "POST", body: values() });
      say(result.ok ? "Both connections work." : "A connection failed: see the results.");
      showTestResult(result);
    }),
  );

  return h(
    "section",
    {},
    heading("Connect"),
    h("p", { class: "lead", text: "Where Dicker Data and Halo are, and the credentials to reach them. Test Configuration checks what the form holds before you save it." }),
    form,
  );
}

function system(name, check) {
  return h(
    "section",
    { class: `check-result ${check.ok ? "ok" : "failed"}`, "data-system": name },
    h("h3", {}, name, " ", check.ok ? badge("OK", "ok") : badge("Failed", "failed")),
    h("p", { class: "message", text: check.message }),
    check.hint ? h("p", { class: "hint" }, h("strong", { text: "What to try: " }), check.hint) : null,
  );
}

function showTestResult(result) {
  openDialog({
    title: "Test Configuration",
    body: [
      h("p", { class: "summary", text: result.ok ? "Both connections work." : "Something needs attention." }),
      system("Dicker Data", result.dicker_data),
      system("Halo", result.halo),
    ],
  });
}
