// The web app's little bit of behaviour: progress polling, the year list, sorting and
// filtering the school table, and the explanation panel. Plain JavaScript, no libraries.
"use strict";

function pollProgress() {
  const box = document.getElementById("progress");
  if (!box) return;
  const url = box.dataset.statusUrl;
  const shown = document.getElementById("elapsed");
  const tick = async () => {
    try {
      const res = await fetch(url, { credentials: "same-origin" });
      const st = await res.json();
      if (shown && st.elapsed !== undefined) shown.textContent = st.elapsed.toFixed(1);
      if (st.state !== "queued" && st.state !== "running") { window.location.reload(); return; }
    } catch (e) { /* the server may be busy: try again */ }
    setTimeout(tick, 700);
  };
  setTimeout(tick, 400);
}

function yearsFollowStandard() {
  const select = document.getElementById("year");
  if (!select) return;
  const update = () => {
    const picked = document.querySelector('input[name="standard"]:checked');
    const id = picked ? picked.value : "";
    for (const opt of select.options) {
      if (!opt.dataset.std) continue;
      opt.hidden = opt.dataset.std !== id;
      if (opt.hidden && opt.selected) select.value = "";
    }
  };
  document.querySelectorAll('input[name="standard"]').forEach((r) => r.addEventListener("change", update));
  update();
}

const STATUS_RANK = { not_met: 0, not_assessed: 1, tolerated: 2, exempt: 3, met: 4, not_applicable: 5 };

function sortableTables() {
  document.querySelectorAll("table.sortable").forEach((table) => {
    const heads = table.querySelectorAll("thead th");
    heads.forEach((th, col) => {
      th.tabIndex = 0;
      const sort = () => {
        const asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        const type = th.dataset.type;
        const key = (row) => {
          const cell = row.children[col];
          const raw = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
          if (type === "number") return parseFloat(raw);
          if (type === "status") return STATUS_RANK[raw] !== undefined ? STATUS_RANK[raw] : 9;
          return raw;
        };
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        rows.sort((a, b) => {
          const x = key(a), y = key(b);
          const c = typeof x === "number" ? x - y : String(x).localeCompare(String(y), "zh");
          return asc ? c : -c;
        });
        rows.forEach((r) => body.appendChild(r));
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", (e) => { if (e.key === "Enter") sort(); });
    });
  });
}

function schoolFilter() {
  const input = document.getElementById("school-filter");
  const only = document.getElementById("only-problems");
  const table = document.getElementById("school-table");
  if (!table) return;
  const apply = () => {
    const q = (input.value || "").trim().toLowerCase();
    for (const row of table.tBodies[0].rows) {
      const text = row.textContent.toLowerCase();
      const statuses = row.dataset.statuses || "";
      const bad = /\b(not_met|not_assessed|tolerated)\b/.test(statuses);
      row.hidden = (q && !text.includes(q)) || (only.checked && !bad);
    }
  };
  input.addEventListener("input", apply);
  only.addEventListener("change", apply);
}

function explanations() {
  const meta = document.getElementById("run-meta");
  const panel = document.getElementById("explain-panel");
  if (!meta || !panel) return;
  const text = document.getElementById("explain-text");
  const open = async (params) => {
    text.textContent = meta.dataset.loading;
    if (!panel.open) panel.showModal();
    const res = await fetch(`/runs/${meta.dataset.run}/explain?` + new URLSearchParams(params), { credentials: "same-origin" });
    text.textContent = await res.text();
  };
  document.querySelectorAll("a.explain-school").forEach((a) => a.addEventListener("click", (e) => {
    e.preventDefault();
    open({ school: a.dataset.school, county: a.dataset.county });
  }));
  document.querySelectorAll("button.explain-county").forEach((b) => b.addEventListener("click", () => open({ county: b.dataset.county })));
}

document.addEventListener("DOMContentLoaded", () => {
  pollProgress();
  yearsFollowStandard();
  sortableTables();
  schoolFilter();
  explanations();
});
