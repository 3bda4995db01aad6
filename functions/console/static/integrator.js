// Halo Integrator: the recurring sync (enable, customers and/or subscriptions, schedule) and
// Sync now, which runs it once exactly as the schedule would.
import { api } from "./api.js";
import { busy, checkbox, field, h, heading, say } from "./ui.js";

const PRESETS = ["rate(15 minutes)", "rate(1 hour)", "rate(6 hours)", "rate(1 day)", "cron(0 18 * * ? *)"];

function scheduleText(settings) {
  const note = settings.schedule_note ? ` (${settings.schedule_note})` : "";
  return `Schedule in AWS: ${settings.schedule_state}${settings.schedule_expression ? `, ${settings.schedule_expression}` : ""}${note}`;
}

export async function render() {
  const settings = await api("/settings");
  const i = settings.integrator;
  const enabled = checkbox("integrator-enabled", "Enable the Halo Integrator (recurring sync)", i.enabled);
  const customers = checkbox("integrator-customers", "Customers", i.sync_customers);
  const subscriptions = checkbox("integrator-subscriptions", "Subscriptions", i.sync_subscriptions);
  const schedule = h("input", { type: "text", id: "integrator-schedule", value: i.schedule, list: "schedule-presets", autocomplete: "off" });
  const state = h("p", { id: "schedule-state", class: "muted", text: scheduleText(settings) });
  const save = h("button", { type: "submit", id: "integrator-save" }, "Save");
  const sync = h("button", { type: "button", id: "sync-now", class: "secondary" }, "Sync now");

  const form = h(
    "form",
    { id: "integrator-form" },
    enabled.el,
    h("fieldset", {}, h("legend", { text: "What each sync imports" }), customers.el, subscriptions.el),
    field("Schedule", schedule, "An EventBridge rate() or cron() expression, e.g. rate(1 hour)."),
    h("datalist", { id: "schedule-presets" }, PRESETS.map((p) => h("option", { value: p }))),
    state,
    h("div", { class: "actions" }, save, sync),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, async () => {
      const saved = await api("/settings", {
        method: "PUT",
        body: {
          integrator: {
            enabled: enabled.input.checked,
            sync_customers: customers.input.checked,
            sync_subscriptions: subscriptions.input.checked,
            schedule: schedule.value.trim(),
          },
        },
      });
      state.textContent = scheduleText(saved);
      say(saved.integrator.enabled ? "The Halo Integrator is enabled." : "The Halo Integrator is disabled.");
    });
  });
  sync.addEventListener("click", () =>
    busy(sync, async () => {
      const started = await api("/sync", { method: "POST", body: { customers: customers.input.checked, subscriptions: subscriptions.input.checked } });
      location.hash = `#/runs/${encodeURIComponent(started.run_id)}`;
    }),
  );
  return h(
    "section",
    {},
    heading("Halo Integrator"),
    h("p", { class: "lead", text: "When enabled, the schedule imports all customers and/or all subscriptions, whatever was chosen by hand. Sync now runs it once, enabled or not." }),
    form,
  );
}
