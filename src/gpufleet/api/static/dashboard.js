// gpufleet dashboard: plain script, no build step. Data comes from /v1 with the token typed here
// (kept in this tab's sessionStorage); every value is put in the page as text, never as HTML.
"use strict";

const TOKEN_KEY = "gpufleet-token";

function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers["Authorization"] = "Bearer " + token();
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) say("the server wants a token: type it above and press use");
  return response;
}

function say(text) { document.getElementById("message").textContent = text || ""; }

async function failed(response) {
  if (response.status !== 401) say((await response.json().catch(() => ({}))).detail || response.statusText);
}

function usd(x) {
  if (x === null || x === undefined) return "–";
  const a = Math.abs(x), sign = x < 0 ? "−" : "";
  for (const [scale, unit] of [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "k"]]) {
    if (a >= scale) return sign + "$" + (a / scale).toFixed(2) + unit;
  }
  return sign + "$" + a.toFixed(0);
}

function figure(metric, x) {
  if (x === null || x === undefined) return "–";
  return metric.endsWith("_usd") ? usd(x) : Number(x).toFixed(2);
}

function row(cells, attrs = {}) {
  const tr = el("tr", null, attrs);
  for (const cell of cells) tr.append(cell instanceof Node ? cell : el("td", cell));
  return tr;
}

function link(text, href) {
  const td = el("td");
  td.append(el("a", text, { href }));
  return td;
}

function pageId() { return decodeURIComponent(window.location.pathname.split("/").pop()); }

async function showReport(path) {
  const report = await api(path);
  if (!report.ok) return failed(report);
  const blob = new Blob([await report.text()], { type: "text/html" });
  document.getElementById("report").src = URL.createObjectURL(blob);
  document.getElementById("report-section").hidden = false;
}

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function setupToken(onChange) {
  const input = document.getElementById("token");
  input.value = token();
  document.getElementById("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    say("");
    onChange();
  });
}

// ------------------------------------------------------------------------------------------ runs

async function refreshRuns() {
  const response = await api("/v1/runs");
  if (!response.ok) return;
  const body = await response.json();
  const tbody = document.querySelector("#runs tbody");
  tbody.replaceChildren();
  for (const run of body.runs.slice().reverse()) {
    const tr = el("tr", null, { "data-run": run.run_id, "data-status": run.status });
    const link = el("a", run.run_id, { href: "/ui/runs/" + encodeURIComponent(run.run_id) });
    const id = el("td"); id.append(link); tr.append(id);
    tr.append(el("td", run.scenario_name), el("td", run.seed));
    tr.append(el("td", run.status, { class: "status-" + run.status }));
    const bar = el("progress", null, { max: "1", value: String(run.progress.fraction) });
    const cell = el("td"); cell.append(bar, " " + run.progress.label); tr.append(cell);
    tr.append(el("td", (run.started || "").replace("T", " ").slice(0, 19)), el("td", run.message));
    tbody.append(tr);
  }
  const finished = body.runs.filter((r) => r.status === "finished").map((r) => r.run_id).reverse();
  for (const [id, pick] of [["compare-a", 1], ["compare-b", 0]]) {
    const select = document.getElementById(id);
    const keep = select.value;
    select.replaceChildren(...finished.map((r) => el("option", r, { value: r })));
    select.value = finished.includes(keep) ? keep : (finished[pick] || finished[0] || "");
  }
}

function showProblems(body) {
  const list = document.getElementById("problems");
  list.replaceChildren();
  for (const p of (body && body.errors) || []) {
    list.append(el("li", [p.where, p.field, p.message].filter(Boolean).join(": ")));
  }
}

async function sendScenario(path) {
  const seed = document.getElementById("seed").value;
  const url = path + (path === "/v1/runs" && seed !== "" ? "?seed=" + encodeURIComponent(seed) : "");
  const response = await api(url, {
    method: "POST",
    headers: { "Content-Type": "application/yaml" },
    body: document.getElementById("scenario").value,
  });
  const body = await response.json().catch(() => ({}));
  showProblems(response.ok ? null : body);
  if (!response.ok) say(body.detail || response.statusText);
  return { response, body };
}

function runsPage() {
  setupToken(refreshRuns);
  document.getElementById("scenario-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (file) document.getElementById("scenario").value = await file.text();
  });
  document.getElementById("validate").addEventListener("click", async () => {
    const { response, body } = await sendScenario("/v1/scenarios/validate");
    if (response.ok) say("ok: scenario '" + body.name + "' is valid");
  });
  document.getElementById("scenario-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const { response, body } = await sendScenario("/v1/runs");
    if (response.status === 202) window.location.href = "/ui/runs/" + encodeURIComponent(body.run_id);
  });
  document.getElementById("compare-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const a = document.getElementById("compare-a").value, b = document.getElementById("compare-b").value;
    if (a && b) window.location.href = "/ui/compare/" + encodeURIComponent(a) + "/" + encodeURIComponent(b);
  });
  refreshRuns();
  setInterval(refreshRuns, 2000);
}

// --------------------------------------------------------------------------------------- compare

async function comparePage() {
  const [a, b] = window.location.pathname.split("/").slice(-2).map(decodeURIComponent);
  document.getElementById("subject").textContent = a + " (A) against " + b + " (B)";
  const show = async () => {
    const response = await api("/v1/runs/" + encodeURIComponent(a) + "/compare/" + encodeURIComponent(b));
    if (!response.ok) {
      if (response.status !== 401) say((await response.json().catch(() => ({}))).detail || response.statusText);
      return;
    }
    const blob = new Blob([await response.text()], { type: "text/html" });
    document.getElementById("report").src = URL.createObjectURL(blob);
    document.getElementById("report-section").hidden = false;
  };
  setupToken(show);
  show();
}

// ------------------------------------------------------------------------------------------- run

async function showRun(runId) {
  const response = await api("/v1/runs/" + encodeURIComponent(runId));
  if (!response.ok) {
    if (response.status !== 401) say((await response.json().catch(() => ({}))).detail || response.statusText);
    return false;
  }
  const run = await response.json();
  document.getElementById("status").textContent = run.status;
  document.getElementById("status").className = "status-" + run.status;
  document.getElementById("progress").value = run.progress.fraction;
  document.getElementById("label").textContent = run.message || run.progress.label;
  if (run.status !== "finished") return run.status === "failed";
  const findings = document.getElementById("findings");
  findings.replaceChildren(...run.findings.map((f) => el("li", f.text)));
  const tbody = document.querySelector("#headline tbody");
  tbody.replaceChildren();
  for (const figure of run.headline_text) {
    const tr = el("tr", null, { "data-key": figure.key });
    tr.append(el("td", figure.group), el("th", figure.label), el("td", figure.text));
    tbody.append(tr);
  }
  document.getElementById("findings-section").hidden = false;
  const report = await api("/v1/runs/" + encodeURIComponent(runId) + "/report");
  if (report.ok) {
    const blob = new Blob([await report.text()], { type: "text/html" });
    document.getElementById("report").src = URL.createObjectURL(blob);
    document.getElementById("report-section").hidden = false;
  }
  return true;
}

function runPage() {
  const runId = decodeURIComponent(window.location.pathname.split("/").pop());
  document.getElementById("subject").textContent = runId;
  let timer = null;
  const poll = async () => { if (await showRun(runId)) clearInterval(timer); };
  setupToken(poll);
  timer = setInterval(poll, 1000);
  poll();
}

// ----------------------------------------------------------------------------------------- plans

async function refreshPlans() {
  const response = await api("/v1/plans");
  if (!response.ok) return failed(response);
  const tbody = document.querySelector("#plans tbody");
  tbody.replaceChildren(...(await response.json()).plans.slice().reverse().map((p) => row([
    link(p.plan_id, "/ui/plans/" + encodeURIComponent(p.plan_id)), p.scenario_name,
    p.created.replace("T", " ").slice(0, 19), p.status, el("td", usd(p.cost_pv_usd), { class: "num" }),
    el("td", usd(p.objective_pv_usd), { class: "num" }),
  ], { "data-plan": p.plan_id })));
}

function plansPage() { setupToken(refreshPlans); refreshPlans(); }

async function showPlan(planId) {
  const response = await api("/v1/plans/" + encodeURIComponent(planId) + "?allocation=false");
  if (!response.ok) return failed(response);
  const plan = await response.json();
  document.getElementById("status").textContent = plan.status;
  document.getElementById("cost").textContent = usd(plan.cost_pv_usd);
  document.getElementById("objective").textContent = usd(plan.objective_pv_usd);
  document.getElementById("scenario-name").textContent = plan.scenario_name;
  document.getElementById("plan-ref").textContent = plan.plan_id;
  document.querySelector("#signed tbody").replaceChildren(...plan.signed.map((s) => row([
    s.option, s.provider, s.site, s.billing, s.start, el("td", s.domains, { class: "num" }),
    el("td", s.gpus, { class: "num" }),
  ], { "data-option": s.option })));
  document.getElementById("sign-nothing").hidden = plan.signed.length > 0;
  const shadow = plan.power_shadow_usd_per_mw || {}, extra = plan.value_of_extra_power_usd || {};
  const sites = [...new Set([...Object.keys(shadow), ...Object.keys(extra)])].sort();
  document.querySelector("#shadow tbody").replaceChildren(...sites.map((site) => row([
    site, el("td", usd(shadow[site]), { class: "num" }), el("td", usd(extra[site]), { class: "num" }),
  ], { "data-site": site })));
  const here = "/ui/plans/" + encodeURIComponent(planId);
  document.getElementById("followed").replaceChildren(...plan.runs_followed.map((r) => {
    const li = el("li", null, { "data-run": r });
    li.append(el("a", r, { href: "/ui/runs/" + encodeURIComponent(r) }), " · ",
      el("a", "compare with the plan", { href: here + "?run=" + encodeURIComponent(r), class: "compare" }));
    return li;
  }));
  if (!plan.runs_followed.length) document.getElementById("followed").append(el("li", "none yet"));
  document.getElementById("plan-section").hidden = false;
  const run = new URLSearchParams(window.location.search).get("run");
  document.getElementById("report-title").textContent = run ? "Plan against run " + run : "Plan";
  await showReport("/v1/plans/" + encodeURIComponent(planId) + "/report"
    + (run ? "?run=" + encodeURIComponent(run) : ""));
}

function planPage() {
  const planId = pageId();
  document.getElementById("subject").textContent = planId;
  setupToken(() => showPlan(planId));
  showPlan(planId);
}

// ---------------------------------------------------------------------------------------- sweeps

async function refreshSweeps() {
  const response = await api("/v1/sweeps");
  if (!response.ok) return failed(response);
  const tbody = document.querySelector("#sweeps tbody");
  tbody.replaceChildren(...(await response.json()).sweeps.slice().reverse().map((s) => {
    const bar = el("td");
    bar.append(el("progress", null, { max: "1", value: String(s.progress.fraction) }), " " + s.progress.label);
    return row([
      link(s.sweep_id, "/ui/sweeps/" + encodeURIComponent(s.sweep_id)), s.scenario_name, s.fidelity,
      s.stored + "/" + s.samples, s.failed, el("td", s.status, { class: "status-" + s.status }), bar,
      s.created.replace("T", " ").slice(0, 19),
    ], { "data-sweep": s.sweep_id, "data-status": s.status });
  }));
}

function sweepsPage() {
  setupToken(refreshSweeps);
  refreshSweeps();
  setInterval(refreshSweeps, 2000);
}

async function showSweep(sweepId) {
  const response = await api("/v1/sweeps/" + encodeURIComponent(sweepId));
  if (!response.ok) { await failed(response); return response.status !== 401; }
  const sweep = await response.json();
  const status = document.getElementById("status");
  status.textContent = sweep.status;
  status.className = "status-" + sweep.status;
  document.getElementById("progress").value = sweep.progress.fraction;
  document.getElementById("label").textContent = sweep.message || sweep.progress.label;
  const n = sweep.samples;
  document.getElementById("counts").textContent = n.finished + " of " + n.planned + " samples finished, "
    + n.failed + " failed (" + sweep.sweep.fidelity + " fidelity, seed " + sweep.sweep.seed + ")";
  document.querySelector("#quantiles tbody").replaceChildren(...Object.entries(sweep.metrics).map(([m, q]) =>
    row([el("th", m), ...["p10", "p50", "p90", "mean"].map((k) => el("td", figure(m, q[k]), { class: "num" }))],
      { "data-metric": m })));
  const risks = [["funding_need_above", "funding need"], ["unused_commitment_above", "unused commitment"]];
  document.getElementById("risks").replaceChildren(...risks.map(([key, label]) => {
    const p = sweep.probabilities[key];
    const shown = p.probability === null ? "–" : (100 * p.probability).toFixed(1) + "%";
    return el("li", "P(" + label + " > " + usd(p.threshold_usd) + ") = " + shown);
  }));
  document.getElementById("fluid-error").textContent = sweep.fluid_error || "";
  document.getElementById("summary-section").hidden = false;
  const done = !["queued", "running"].includes(sweep.status);
  if (done && n.finished > 0) await showReport("/v1/sweeps/" + encodeURIComponent(sweepId) + "/report");
  return done;
}

function sweepPage() {
  const sweepId = pageId();
  document.getElementById("subject").textContent = sweepId;
  let timer = null;
  const poll = async () => { if (await showSweep(sweepId)) clearInterval(timer); };
  setupToken(poll);
  timer = setInterval(poll, 1000);
  poll();
}

const PAGES = {
  runs: runsPage, run: runPage, compare: comparePage, plans: plansPage, plan: planPage, sweeps: sweepsPage,
  sweep: sweepPage,
};
PAGES[document.body.dataset.page]();
