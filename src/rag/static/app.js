// Ask the report: a dependency-free page over the JSON API (POST /query, GET /footnotes/{doc}/{n}).
"use strict";

const $ = (sel) => document.querySelector(sel);
const notes = new Map(); // "doc/n" -> citation (footnote text and resolved sources)

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

const present = (...nodes) => nodes.filter((n) => n !== null && n !== undefined);

function setStatus(message, isError = false) {
  const s = $("#status");
  s.textContent = message;
  s.classList.toggle("error", isError);
}

async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options, headers: { "Accept": "application/json", ...(options.headers || {}) } });
  } catch (err) {
    throw new Error("Could not reach the server. Is it running?");
  }
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) {
    const why = body && body.error ? body.error : `the server answered ${response.status}`;
    throw new Error(response.status >= 500 ? `Server error: ${why}` : why);
  }
  return body;
}

// ---------------------------------------------------------------- citations

function sourceLine(src) {
  const parts = [];
  if (src.authors && src.authors.length) parts.push(src.authors.join(", "));
  if (src.title) parts.push(`“${src.title}”`);
  if (src.outlet) parts.push(src.outlet);
  if (src.date) parts.push(src.date);
  if (src.page) parts.push(`p. ${src.page}`);
  return parts.join(", ") || src.source_id;
}

function sourceNode(src) {
  const node = el("div", { class: "source" }, "Source: " + sourceLine(src));
  if (src.urls && src.urls.length) {
    node.append(" ", el("a", { href: src.urls[0], target: "_blank", rel: "noopener noreferrer" }, "link"));
  }
  return node;
}

function withMarkers(text, doc) {
  // Passage text carries footnote markers as [n]: turn each into a button that opens the footnote.
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    frag.append(text.slice(last, m.index));
    const n = m[1];
    const button = el("button", { type: "button", class: "marker", "data-doc": doc, "data-n": n,
      "aria-label": `Footnote ${n}`, "aria-expanded": "false", "aria-haspopup": "dialog" }, `[${n}]`);
    button.addEventListener("click", (e) => { e.stopPropagation(); openPopover(button); });
    button.addEventListener("mouseenter", () => showPopover(button));
    frag.append(button);
    last = m.index + m[0].length;
  }
  frag.append(text.slice(last));
  return frag;
}

let openMarker = null;

function showPopover(button) {
  const c = notes.get(`${button.dataset.doc}/${button.dataset.n}`);
  if (!c) return;
  const pop = $("#popover");
  pop.replaceChildren(...present(
    el("button", { type: "button", class: "close", "aria-label": "Close footnote", onclick: hidePopover }, "×"),
    el("strong", {}, `Footnote ${c.number}`),
    el("div", { class: "note-text" }, c.text),
    ...(c.sources || []).map(sourceNode),
    c.unresolved_reason ? el("div", { class: "source" }, `Source not resolved: ${c.unresolved_reason}`) : null,
    el("div", {}, el("a", { href: `/footnotes/${encodeURIComponent(button.dataset.doc)}/${c.number}` }, "All passages citing this footnote")),
  ));
  pop.setAttribute("aria-label", `Footnote ${c.number}`);
  const r = button.getBoundingClientRect();
  pop.hidden = false;
  const left = Math.min(window.scrollX + r.left, window.scrollX + document.documentElement.clientWidth - pop.offsetWidth - 8);
  pop.style.left = `${Math.max(8, left)}px`;
  pop.style.top = `${window.scrollY + r.bottom + 6}px`;
  if (openMarker && openMarker !== button) openMarker.setAttribute("aria-expanded", "false");
  openMarker = button;
  button.setAttribute("aria-expanded", "true");
}

function openPopover(button) {
  // Hovering already showed it; a click (or Enter) keeps it open and moves focus into it.
  showPopover(button);
  $("#popover").focus();
}

function hidePopover() {
  $("#popover").hidden = true;
  if (openMarker) { openMarker.setAttribute("aria-expanded", "false"); openMarker.focus(); }
  openMarker = null;
}

// ---------------------------------------------------------------- results

function plainCitationText(p) {
  const lines = [`${p.heading_path.join(" > ")}`, "", p.text, ""];
  for (const c of p.citations) {
    const srcs = (c.sources || []).map(sourceLine).join("; ");
    lines.push(`[${c.number}] ${c.text.replace(/\n/g, " ")}${srcs ? ` (source: ${srcs})` : ""}`);
  }
  return lines.join("\n");
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const area = el("textarea", {}, text);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy with citations"; }, 1500);
}

function renderPassage(p) {
  for (const c of p.citations) notes.set(`${p.doc}/${c.number}`, c);
  const crumbs = el("nav", { class: "crumbs", "aria-label": "Section" }, ...p.heading_path.map((h) => el("span", {}, h)));
  const copy = el("button", { type: "button", class: "copy", "aria-label": `Copy passage ${p.rank} with its citations` }, "Copy with citations");
  copy.addEventListener("click", () => copyText(plainCitationText(p), copy));
  const noteList = el("ol", { class: "notes", "aria-label": "Footnotes of this passage" },
    ...p.citations.map((c) => el("li", { value: String(c.number) }, c.text.split("\n")[0])));
  return el("li", { class: "passage", id: `passage-${p.rank}`, "data-chunk": p.chunk_id },
    crumbs,
    el("p", { class: "passage-text" }, withMarkers(p.text, p.doc)),
    p.citations.length ? noteList : null,
    el("div", { class: "meta" }, p.score === undefined ? el("span") : el("span", {}, `score ${p.score.toFixed(3)}`), copy));
}

function renderSources(passages) {
  const byId = new Map();
  for (const p of passages) for (const c of p.citations) for (const s of (c.sources || [])) {
    const entry = byId.get(s.source_id) || { source: s, numbers: new Set() };
    entry.numbers.add(c.number);
    byId.set(s.source_id, entry);
  }
  const items = [...byId.values()].map(({ source, numbers }) =>
    el("li", {}, sourceNode(source), ` — footnote${numbers.size > 1 ? "s" : ""} ${[...numbers].sort((a, b) => a - b).join(", ")}`));
  $("#sources").replaceChildren(...(items.length ? items : [el("li", {}, "No footnoted sources in these passages.")]));
}

function renderAnswer(result) {
  const box = $("#answer");
  const a = result.answer;
  if (a === undefined) { box.hidden = true; return; }
  box.hidden = false;
  const text = $("#answer-text");
  if (a === null) {
    text.replaceChildren(`The report does not seem to answer this${result.no_answer_reason ? `: ${result.no_answer_reason}` : "."}`);
    return;
  }
  for (const c of a.citations || []) notes.set(`${a.doc}/${c.number}`, c);
  // One excerpt per passage drawn on (a question in parts has one per part), each naming its passage.
  const excerpts = a.excerpts && a.excerpts.length ? a.excerpts : [{ text: a.text, doc: a.doc, rank: a.rank }];
  const lookup = LOOKUPS[result.lookup];
  text.replaceChildren(...(lookup ? [el("p", { class: "lookup" }, lookup)] : []), ...excerpts.map((e) => el("p", { class: "excerpt" },
    el("mark", {}, withMarkers(e.text, e.doc)), " ",
    el("a", { href: `#passage-${e.rank}`, class: "from" }, `passage ${e.rank}`))));
}

// A question naming a footnote, asking where a source is cited, naming a cell of a table, or asking who or what a name is
// is answered by look-up, not search.
const LOOKUPS = {
  footnote: "Footnote look-up: the sentence that carries the footnote's marker; the passages citing it come first.",
  source: "Source look-up: where the report cites this source, in reading order.",
  report: "About the report itself: from its title page and credits.",
  table: "Table look-up: the cells of the report's table that the question names (a column and a row).",
  name: "Name look-up: of the sentences naming it, the one that best says who or what it is; the passages naming it come first.",
};

async function ask(question) {
  const q = question.trim();
  if (!q) {
    setStatus("Please type a question first.", true);
    $("#question").focus();
    return;
  }
  const k = Number($("#k").value);
  setStatus("Searching the report…");
  $("#submit").disabled = true;
  hidePopover();
  try {
    const result = await api("/query", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ question: q, k }) });
    notes.clear();
    renderAnswer(result);
    $("#passages").replaceChildren(...result.passages.map(renderPassage));
    renderSources(result.passages);
    $("#results").hidden = false;
    setStatus(`${result.passages.length} passages in ${Math.round(result.timing_ms)} ms.`);
  } catch (err) {
    setStatus(err.message, true);
  } finally {
    $("#submit").disabled = false;
  }
}

// ---------------------------------------------------------------- footnote view

async function showFootnote(doc, n) {
  $("#ask-view").hidden = true;
  $("#footnote-view").hidden = false;
  $("#footnote-title").textContent = `Footnote ${n}`;
  try {
    const f = await api(`/footnotes/${encodeURIComponent(doc)}/${n}`);
    $("#footnote-title").textContent = `Footnote ${n} (${f.kind})`;
    document.title = `Footnote ${n} — Ask the report`;
    $("#footnote-text").textContent = f.text;
    const chain = f.chain && f.chain.length > 1 ? el("p", {}, `Resolved through footnotes ${f.chain.join(" → ")}.`) : null;
    $("#footnote-sources").replaceChildren(...present(chain, ...(f.sources || []).map(sourceNode),
      f.unresolved_reason ? el("p", {}, `Source not resolved: ${f.unresolved_reason}`) : null));
    $("#footnote-passages").replaceChildren(...f.passages.map((p, i) => renderPassage({ ...p, rank: i + 1, citations: p.citations || [] })));
  } catch (err) {
    $("#footnote-text").textContent = err.message;
  }
}

// ---------------------------------------------------------------- wiring

document.addEventListener("DOMContentLoaded", () => {
  const m = location.pathname.match(/^\/footnotes\/([^/]+)\/(\d+)\/?$/);
  if (m) { showFootnote(decodeURIComponent(m[1]), m[2]); return; }
  $("#ask").addEventListener("submit", (e) => { e.preventDefault(); ask($("#question").value); });
  for (const b of document.querySelectorAll(".example")) {
    b.addEventListener("click", () => { $("#question").value = b.textContent; ask(b.textContent); });
  }
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("#popover").hidden) hidePopover(); });
  document.addEventListener("click", (e) => { if (!$("#popover").contains(e.target)) { if (!$("#popover").hidden) hidePopover(); } });
  const q = new URLSearchParams(location.search).get("q");
  if (q) { $("#question").value = q; ask(q); }
});
