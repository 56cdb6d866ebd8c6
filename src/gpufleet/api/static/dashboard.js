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
  document.getElementById("runs-compared").textContent = a + " (A) against " + b + " (B)";
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
  document.getElementById("run-id").textContent = runId;
  let timer = null;
  const poll = async () => { if (await showRun(runId)) clearInterval(timer); };
  setupToken(poll);
  timer = setInterval(poll, 1000);
  poll();
}

const PAGES = { runs: runsPage, run: runPage, compare: comparePage };
PAGES[document.body.dataset.page]();
