// Runs: the history, one run with live progress (polled while it is queued or running, never
// blocking the page), its items filterable by result, and a CSV of all of them.
import { allPages, api } from "./api.js";
import { badge, busy, fill, fmtDate, h, heading, openDialog, say, table } from "./ui.js";
import { changesInWords, heldByName, heldInWords } from "./words.js";

const POLL_MS = 1500;
const ACTIVE = new Set(["queued", "running"]);
const RESULTS = ["created", "updated", "unchanged", "skipped", "failed"];
const CSV_COLUMNS = ["type", "name", "dicker_id", "customer_id", "halo_id", "result", "reason_code", "reason", "changes"];

export async function render(ctx, runId) {
  return runId ? renderRun(ctx, runId) : renderList(ctx);
}

function counts(c = {}) {
  return RESULTS.map((r) => `${c[r] ?? 0} ${r}`).join(", ");
}

function runRow(run) {
  return [
    h("a", { href: `#/runs/${encodeURIComponent(run.run_id)}`, text: fmtDate(run.started_at) || run.run_id }),
    `${run.kind}${run.dry_run ? " (plan)" : ""}`,
    run.trigger,
    badge(run.status),
    counts(run.counts),
  ];
}

async function renderList() {
  const first = await api("/runs?limit=25");
  const rows = [...first.runs];
  const holder = h("div", {});
  let token = first.next_token;
  const more = h("button", { type: "button", class: "secondary", id: "more-runs" }, "Load more");
  const draw = () => {
    fill(
      holder,
      table({
        id: "runs-table",
        caption: "Run history, newest first",
        columns: ["Started", "Kind", "Trigger", "Status", "Counts"],
        rows: rows.map(runRow),
        empty: "No runs yet: import customers or subscriptions, or sync.",
      }),
    );
    more.hidden = !token;
  };
  more.addEventListener("click", () =>
    busy(more, async () => {
      const page = await api(`/runs?limit=25&next_token=${encodeURIComponent(token)}`);
      rows.push(...page.runs);
      token = page.next_token;
      draw();
    }),
  );
  const refresh = h("button", { type: "button", class: "secondary", onclick: () => window.dispatchEvent(new HashChangeEvent("hashchange")) }, "Refresh");
  draw();
  return h("section", {}, heading("Runs", refresh), holder, more);
}

const WAITING = {
  halo_rate_limit: "Waiting for Halo's rate limit",
  another_run: "Waiting for another run to finish",
};

function progressBlock(run) {
  const p = run.progress || {};
  const active = ACTIVE.has(run.status);
  const waiting = p.waiting_for || run.waiting_for;
  const parts = [];
  if (active) {
    const bar = h("progress", { id: "run-progress", max: p.total || 1, "aria-label": "Progress" });
    if (p.total) bar.value = Math.min(p.done || 0, p.total);
    else bar.removeAttribute("value");
    parts.push(bar);
    parts.push(h("p", { id: "run-phase" }, `${p.phase || run.status}: ${p.done ?? 0}${p.total ? ` of ${p.total}` : ""}`, p.eta_s ? ` · about ${Math.ceil(p.eta_s)} s left` : ""));
  }
  if (run.chunks_total) parts.push(h("p", { id: "run-chunks", text: `Chunk ${run.chunks_done} of ${run.chunks_total}` }));
  if (active && waiting) parts.push(h("p", { id: "run-waiting", class: "waiting", text: WAITING[waiting] || `Waiting: ${waiting}` }));
  return parts;
}

function summary(run) {
  const dl = h("dl", { class: "summary-list", id: "run-counts" });
  for (const r of RESULTS) dl.append(h("div", {}, h("dt", { text: r }), h("dd", { "data-result": r, text: String(run.counts?.[r] ?? 0) })));
  return dl;
}

// What an item did or will do, in words: its changes, why (a held customer without the API's
// instructions: `actions`, when given, offers them as buttons), and the API's hint.
function outcome(item, nameOf, actions) {
  const held = item.type === "customer" && item.result === "skipped" && heldByName(item);
  const why = held ? heldInWords(item, nameOf) : item.reason;
  const changes = changesInWords(item);
  const buttons = actions ? actions(item).flat(Infinity).filter(Boolean) : null;
  return [
    changes ? h("div", { class: "changes", text: changes }) : null,
    why ? h("div", { class: "reason", text: why }) : null,
    item.hint ? h("div", { class: "muted", text: item.hint }) : null,
    buttons && buttons.length ? h("div", { class: "suggestions" }, buttons) : null,
  ];
}

export function itemRows(items, actions = null) {
  const names = new Map(items.filter((i) => i.type === "customer").map((i) => [i.dicker_id, i.name]));
  const nameOf = (id) => names.get(id);
  return items.map((item) => [
    item.type,
    item.name || "",
    h("code", { text: item.dicker_id || "" }),
    item.halo_id ?? "",
    badge(item.result),
    outcome(item, nameOf, actions),
  ]);
}

export function itemsTable(items, id = "items-table", actions = null) {
  return table({
    id,
    columns: ["Type", "Name", "Dicker Data id", "Halo id", "Result", "Details"],
    rows: itemRows(items, actions),
    empty: "No items.",
  });
}

async function renderRun(ctx, runId) {
  const path = `/runs/${encodeURIComponent(runId)}`;
  let run = await api(path);
  const head = h("div", {});
  const filter = h(
    "select",
    { id: "item-filter" },
    h("option", { value: "", text: "All results" }),
    RESULTS.map((r) => h("option", { value: r, text: r })),
  );
  const itemsHolder = h("div", { id: "items" });
  const more = h("button", { type: "button", class: "secondary", id: "more-items" }, "Load more items");
  const csv = h("button", { type: "button", id: "download-csv" }, "Download CSV");
  let items = run.items || [];
  let token = run.next_token;

  const drawItems = () => {
    const shown = filter.value ? items.filter((i) => i.result === filter.value) : items;
    fill(itemsHolder, itemsTable(shown));
    more.hidden = !token;
  };
  const drawHead = () => {
    fill(
      head,
      h("p", { class: "run-meta" }, badge(run.status), " ", `${run.kind}${run.dry_run ? " (plan only)" : ""}, ${run.trigger}, started ${fmtDate(run.started_at)}`, run.finished_at ? `, finished ${fmtDate(run.finished_at)}` : ""),
      summary(run),
      progressBlock(run),
      run.error ? h("div", { class: "run-error" }, h("p", {}, h("strong", { text: "Error: " }), run.error), run.hint ? h("p", {}, h("strong", { text: "What to try: " }), run.hint) : null) : null,
      run.skipped_reason ? h("p", { class: "muted", text: run.skipped_reason }) : null,
    );
  };

  filter.addEventListener("change", drawItems);
  more.addEventListener("click", () =>
    busy(more, async () => {
      const page = await api(`${path}?next_token=${encodeURIComponent(token)}`);
      items = items.concat(page.items || []);
      token = page.next_token;
      drawItems();
    }),
  );
  csv.addEventListener("click", () =>
    busy(csv, async () => {
      const { items: all } = await allPages(path, "items");
      download(`run-${runId}-items.csv`, toCsv(all));
      say(`Downloaded ${all.length} items as CSV.`);
    }),
  );

  const poll = async () => {
    if (!ctx.alive || !ACTIVE.has(run.status)) return;
    try {
      const next = await api(path, { quiet: true });
      if (!ctx.alive) return;
      run = next;
      items = run.items || [];
      token = run.next_token;
      drawHead();
      drawItems();
      if (!ACTIVE.has(run.status)) say(`The run finished: ${run.status}.`);
    } catch {
      // A failed poll is retried at the next tick; the last known state stays on screen.
    }
    if (ctx.alive && ACTIVE.has(run.status)) setTimeout(poll, POLL_MS);
  };

  drawHead();
  drawItems();
  if (ACTIVE.has(run.status)) setTimeout(poll, POLL_MS);
  return h(
    "section",
    { id: "run-view", "data-run-id": runId },
    heading(`Run ${runId}`, h("a", { href: "#/runs", class: "button secondary" }, "All runs")),
    head,
    h("h2", { text: "Items" }),
    h("div", { class: "actions" }, h("label", { for: "item-filter", text: "Show" }), filter, csv),
    itemsHolder,
    more,
  );
}

// A cell that a spreadsheet would run as a formula is prefixed with a quote.
function cell(value) {
  let text = Array.isArray(value) ? value.join("; ") : value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(items) {
  const lines = [CSV_COLUMNS.join(",")];
  for (const item of items) lines.push(CSV_COLUMNS.map((c) => cell(item[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// The plan a dry run answers, then the real run on confirm. Answers "go", null (cancelled) or the
// next plan to show, which `actions(item, next)` buttons choose: `next({ body, title, note })`.
export async function confirmPlan(run, { title, confirmLabel, note = "", actions = null }) {
  const filter = h("select", { id: "plan-filter" }, h("option", { value: "", text: "All results" }), RESULTS.map((r) => h("option", { value: r, text: r })));
  const holder = h("div", {});
  const items = run.items || [];
  let chosen = null;
  const next = (step) => {
    chosen = step;
    close("next");
  };
  const rowActions = actions ? (item) => actions(item, next) : null;
  const draw = () => fill(holder, itemsTable(filter.value ? items.filter((i) => i.result === filter.value) : items, "plan-table", rowActions));
  filter.addEventListener("change", draw);
  draw();
  const go = h("button", { type: "button", id: "confirm-run", value: "go" }, confirmLabel);
  const nothing = !RESULTS.some((r) => r !== "unchanged" && r !== "skipped" && run.counts?.[r]);
  const { closed, close } = openDialog({
    title,
    wide: true,
    closeLabel: "Cancel",
    describedBy: note ? "plan-note" : null,
    body: [
      note ? h("p", { id: "plan-note", class: "plan-note", text: note }) : null,
      h("p", { class: "plan-summary", id: "plan-summary" }, `This is what the import will do: ${counts(run.counts)}.`, nothing ? " It would change nothing in Halo." : ""),
      run.next_token ? h("p", { class: "muted", text: "The plan has more items than shown here; the run will do all of them." }) : null,
      h("div", { class: "actions" }, h("label", { for: "plan-filter", text: "Show" }), filter),
      holder,
    ],
    actions: [go],
  });
  go.addEventListener("click", () => close("go"));
  const answer = await closed;
  return answer === "go" ? "go" : answer === "next" ? chosen : null;
}

// Start a run (a plan first, again after a button in the plan changed what it would do), then
// follow it on its own screen.
export async function planThenRun(path, body, { title, confirmLabel, actions = null }) {
  let step = { body, title, note: "" };
  for (;;) {
    say("Working out the plan…");
    const plan = await api(path, { method: "POST", body: { ...step.body, dry_run: true } });
    const planned = plan.items ? plan : await waitFor(plan.run_id);
    say("");
    const choice = await confirmPlan(planned, { title: step.title, confirmLabel, note: step.note, actions: actions && ((item, next) => actions(item, step.body, next)) });
    if (choice === "go") break;
    if (!choice) {
      say("Nothing was started.");
      return null;
    }
    step = { title, note: "", ...choice };
  }
  const started = await api(path, { method: "POST", body: { ...step.body, dry_run: false } });
  location.hash = `#/runs/${encodeURIComponent(started.run_id)}`;
  return started.run_id;
}

async function waitFor(runId) {
  for (;;) {
    const run = await api(`/runs/${encodeURIComponent(runId)}`);
    if (!ACTIVE.has(run.status)) return run;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
