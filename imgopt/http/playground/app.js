// The playground: the real API (/info, /variants) called the way any client calls it, from this page.
"use strict";

const TOKEN_KEY = "imgopt-token";
const $ = (selector) => document.querySelector(selector);
const state = { file: null, sourceUrl: null, source: null, renditions: [] };

// The token in the field, typed or pasted, whether or not "Use" was pressed; else the one kept for this tab.
function token() {
  return $("#auth").elements.token.value.trim() || sessionStorage.getItem(TOKEN_KEY) || "";
}

function keepToken(value, how) {
  sessionStorage.setItem(TOKEN_KEY, value);
  $("#auth-state").textContent = how;
}

// `make run` prints a link with the token in its fragment, which the browser never sends to the server:
// keep it for this tab and take it out of the address bar.
function tokenFromLink() {
  const value = new URLSearchParams(location.hash.slice(1)).get("token");
  if (!value) return;
  keepToken(value, "token from the link, kept for this tab");
  history.replaceState(null, "", location.pathname + location.search);
}

function showError(error) {
  const box = $("#error");
  box.hidden = false;
  box.innerHTML = "";
  const code = document.createElement("code");
  code.textContent = error.code;
  box.append(code, " ", error.message || "");
  box.dataset.code = error.code;
}

function clearError() {
  $("#error").hidden = true;
  delete $("#error").dataset.code;
}

async function call(path, fields) {
  const form = new FormData();
  form.append("file", state.file, state.file.name || "upload");
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  const response = await fetch(path, { method: "POST", headers: { Authorization: `Bearer ${token()}` }, body: form });
  const body = await response.json().catch(() => ({ error: { code: `http_${response.status}`, message: "not JSON" } }));
  if (!response.ok) throw body.error || { code: `http_${response.status}`, message: "" };
  return body;
}

function formatBytes(count) {
  return count >= 1048576 ? `${(count / 1048576).toFixed(2)} MiB` : `${(count / 1024).toFixed(1)} KiB`;
}

function showFacts(info) {
  const { source, placeholder } = info;
  state.source = source;
  const facts = $("#facts");
  facts.innerHTML = "";
  const rows = [
    ["format", source.format],
    ["size", `${source.width} x ${source.height} (upright)`],
    ["frames", `${source.frames}${source.animated ? " (animated)" : ""}`],
    ["alpha", source.has_alpha ? "yes" : "no"],
    ["upload", formatBytes(state.file.size)],
    ["colour", placeholder.color],
  ];
  for (const [name, value] of rows) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = name;
    dd.textContent = value;
    facts.append(dt, dd);
  }
  $("#ph-color").style.background = placeholder.color;
  paintBlurhash($("#ph-blurhash"), placeholder.blurhash, source.width / source.height);
  paintThumbhash($("#ph-thumbhash"), placeholder.thumbhash);
  $("#ph-datauri").src = placeholder.data_uri;
  $("#ph-datauri").title = `${placeholder.data_uri.length} bytes`;
  $("#source").hidden = false;
  $("#settings").hidden = false;
}

function listOf(text) {
  return text.split(",").map((item) => item.trim()).filter(Boolean);
}

function variantsFromFields() {
  const fields = Object.fromEntries(new FormData($("#fields")));
  const shared = {};
  const quality = fields.quality.trim();
  if (quality) shared.quality = quality === "auto" ? "auto" : Number(quality);
  for (const name of ["target", "height"]) {
    if (fields[name].trim()) shared[name] = Number(fields[name]);
  }
  for (const name of ["focus", "crop"]) {
    if (fields[name].trim()) shared[name] = fields[name].trim();
  }
  shared.fit = fields.fit;
  shared.gravity = fields.gravity;
  if (fields.widths.trim().toLowerCase() === "auto") {
    // The service chooses the widths; the height follows the image, so it is left out.
    delete shared.height;
    return listOf(fields.formats).map((format) => ({ name: format, format, widths: "auto", ...shared }));
  }
  const variants = [];
  for (const width of listOf(fields.widths)) {
    for (const format of listOf(fields.formats)) {
      variants.push({ name: `${format}-${width}`, format, width: Number(width), ...shared });
    }
  }
  return variants;
}

function showChosenWidths() {
  // With widths=auto: per format, the widths the service chose and what each costs.
  const chosen = $("#chosen");
  chosen.innerHTML = "";
  const auto = $("#fields").elements.widths.value.trim().toLowerCase() === "auto";
  chosen.hidden = !auto;
  if (!auto) return;
  const byFormat = new Map();
  for (const rendition of state.renditions) {
    if (!byFormat.has(rendition.format)) byFormat.set(rendition.format, []);
    byFormat.get(rendition.format).push(rendition);
  }
  for (const [format, renditions] of byFormat) {
    const line = document.createElement("li");
    line.dataset.format = format;
    line.dataset.widths = renditions.map((r) => r.width).join(",");
    line.dataset.bytes = renditions.map((r) => r.bytes).join(",");
    const steps = renditions.map((r) => `${r.width} px ${formatBytes(r.bytes)}`).join(", ");
    line.textContent = `${format}: ${renditions.length} widths chosen from their bytes: ${steps}`;
    chosen.append(line);
  }
}

function drawWindows() {
  const svg = $("#windows");
  svg.innerHTML = "";
  if (!state.source) return;
  svg.setAttribute("viewBox", `0 0 ${state.source.width} ${state.source.height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const seen = new Set();
  for (const rendition of state.renditions) {
    if (!rendition.region) continue;
    const key = rendition.region.join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    const [left, top, right, bottom] = rendition.region;
    const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    Object.entries({ x: left, y: top, width: right - left, height: bottom - top }).forEach(([k, v]) => rect.setAttribute(k, v));
    rect.setAttribute("stroke", `hsl(${(seen.size * 67) % 360} 90% 45%)`);
    rect.dataset.name = rendition.name;
    svg.append(rect);
  }
}

function showRenditions(result, elapsed) {
  state.renditions = result.variants.map((item) => ({
    ...item,
    url: URL.createObjectURL(new Blob([Uint8Array.from(atob(item.data), (c) => c.charCodeAt(0))], { type: item.media_type })),
  }));
  const box = $("#renditions");
  box.innerHTML = "";
  let total = 0;
  for (const rendition of state.renditions) {
    total += rendition.bytes;
    const card = document.createElement("article");
    card.className = "rendition";
    card.dataset.name = rendition.name;
    card.dataset.bytes = rendition.bytes;
    const rows = [
      ["format", rendition.format],
      ["size", `${rendition.width} x ${rendition.height}`],
      ["bytes", `${rendition.bytes} (${formatBytes(rendition.bytes)})`],
      ["quality", rendition.quality ?? "lossless"],
      ["score", rendition.score ?? "-"],
    ];
    card.innerHTML = `<h3></h3><img alt=""><dl></dl>`;
    card.querySelector("h3").textContent = rendition.name;
    card.querySelector("img").src = rendition.url;
    card.querySelector("img").alt = `${rendition.name}, ${rendition.width} x ${rendition.height} ${rendition.format}`;
    const list = card.querySelector("dl");
    for (const [name, value] of rows) {
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = name;
      dd.textContent = value;
      dd.className = name;
      list.append(dt, dd);
    }
    box.append(card);
  }
  const summary = $("#summary");
  summary.textContent = `${state.renditions.length} renditions, ${formatBytes(total)} in all, in ${Math.round(elapsed)} ms (upload included)`;
  summary.dataset.count = state.renditions.length;
  $("#results").hidden = false;
  showChosenWidths();
  drawWindows();
  fillCompare();
}

function fillCompare() {
  const options = [{ name: "source", url: state.sourceUrl }, ...state.renditions];
  for (const [id, pick] of [["#left", 0], ["#right", Math.min(1, options.length - 1)]]) {
    const select = $(id);
    const previous = select.value;
    select.innerHTML = "";
    for (const option of options) select.append(new Option(option.name, option.name));
    select.value = options.some((o) => o.name === previous) ? previous : options[pick].name;
  }
  $("#compare").hidden = false;
  updateCompare();
}

function urlOf(name) {
  return name === "source" ? state.sourceUrl : state.renditions.find((r) => r.name === name)?.url;
}

function updateCompare() {
  $("#split-left").src = urlOf($("#left").value) || "";
  $("#split-right").src = urlOf($("#right").value) || "";
  const position = Number($("#slider").value);
  $("#split-clip").style.left = `${position}%`;
  const width = $("#split-left").getBoundingClientRect().width;
  $("#split-right").style.width = `${width}px`;
  $("#split-right").style.height = `${$("#split-left").getBoundingClientRect().height}px`;
}

async function makeRenditions() {
  if (!state.file) return;
  clearError();
  const started = performance.now();
  try {
    const result = await call("/variants", { variants: JSON.stringify(variantsFromFields()) });
    showRenditions(result, performance.now() - started);
  } catch (error) {
    showError(error);
  }
}

async function useFile(file) {
  if (!file) return;
  state.file = file;
  if (state.sourceUrl) URL.revokeObjectURL(state.sourceUrl);
  state.sourceUrl = URL.createObjectURL(file);
  $("#source-image").src = state.sourceUrl;
  $("#focus-dot").hidden = true;
  clearError();
  try {
    showFacts(await call("/info", {}));
  } catch (error) {
    showError(error);
    return;
  }
  await makeRenditions();
}

function setFocus(event) {
  const box = $("#source-image").getBoundingClientRect();
  const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
  $("#fields").elements.focus.value = `${x.toFixed(3)},${y.toFixed(3)}`;
  const dot = $("#focus-dot");
  dot.hidden = false;
  dot.style.left = `${x * 100}%`;
  dot.style.top = `${y * 100}%`;
  makeRenditions();
}

$("#auth").addEventListener("submit", (event) => {
  event.preventDefault();
  const field = event.target.elements.token;
  keepToken(field.value.trim(), "token set for this tab");
  field.value = "";
});
tokenFromLink();
window.addEventListener("hashchange", tokenFromLink); // the link opened in a tab already on the page
if (sessionStorage.getItem(TOKEN_KEY) && !$("#auth-state").textContent) {
  $("#auth-state").textContent = "token set for this tab";
}

$("input[name=file]").addEventListener("change", (event) => useFile(event.target.files[0]));
const drop = $("#drop");
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  useFile(event.dataTransfer.files[0]);
});
$("#fields").addEventListener("submit", (event) => {
  event.preventDefault();
  makeRenditions();
});
$("#source-frame").addEventListener("click", setFocus);
for (const id of ["#left", "#right", "#slider"]) $(id).addEventListener("input", updateCompare);
$("#split-left").addEventListener("load", updateCompare);
window.addEventListener("resize", updateCompare);
