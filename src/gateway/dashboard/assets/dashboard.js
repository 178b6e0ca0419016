// The gateway dashboard's page script: no framework, no build step. It polls the snapshot route once a
// second with the metrics token as a header (an EventSource cannot send one, and a token in a query
// string would be logged), and draws the charts as plain SVG. Everything is written with textContent
// and attributes, never HTML, and the DOM carries ids and data-* attributes for tests to read.

const POLL_INTERVAL_MS = 1000;
const RETRY_INTERVAL_MS = 3000;
const MAX_EVENTS = 50;
const SVG = "http://www.w3.org/2000/svg";
const TOKEN_KEY = "room-watcher-dashboard-token";

/** The metrics token: from the fragment (#token=...), kept for this tab, and taken out of the address bar. */
function readToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromFragment = fragment.get("token");
  if (fromFragment) {
    sessionStorage.setItem(TOKEN_KEY, fromFragment);
    history.replaceState(null, "", location.pathname + location.search);
    return fromFragment;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function byId(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element;
}

/** Sets an element's text and its data-value (what tests read). */
function show(id, value, text = String(value)) {
  const element = byId(id);
  element.dataset.value = String(value);
  element.textContent = text;
}

function setStatus(state, text) {
  const element = byId("status");
  element.dataset.state = state;
  element.textContent = text;
}

function svgElement(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function round(value, digits = 1) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function drawRate(upstream) {
  const chart = byId("rate-chart");
  const width = 600;
  const height = 120;
  const series = upstream.series;
  const top = Math.max(1, upstream.budgetPerSecond ?? 0, ...series.map((s) => s.perSecond));
  const barWidth = width / 60;
  const children = series.map((sample, index) => {
    const barHeight = (sample.perSecond / top) * (height - 12);
    return svgElement("rect", {
      class: "bar",
      x: round(width - (series.length - index) * barWidth, 2),
      y: round(height - barHeight, 2),
      width: round(barWidth - 1, 2),
      height: round(barHeight, 2),
      "data-at": sample.at,
      "data-per-second": round(sample.perSecond, 2),
      "data-requests": sample.requests,
      "data-paused": sample.paused,
    });
  });
  if (upstream.budgetPerSecond !== null) {
    const y = round(height - (upstream.budgetPerSecond / top) * (height - 12), 2);
    children.push(svgElement("line", { class: "budget", id: "rate-budget-line", x1: 0, x2: width, y1: y, y2: y, "data-value": upstream.budgetPerSecond }));
    children.push(svgElement("text", { x: 4, y: Math.max(10, y - 2) }, `budget ${upstream.budgetPerSecond}/s`));
  }
  chart.replaceChildren(...children);
}

function drawLatency(histogram) {
  const chart = byId("latency-histogram");
  const width = 600;
  const height = 140;
  const buckets = histogram.buckets;
  const top = Math.max(1, ...buckets.map((b) => b.count));
  const slot = width / Math.max(1, buckets.length);
  const children = [];
  buckets.forEach((bucket, index) => {
    const barHeight = (bucket.count / top) * (height - 30);
    const label = bucket.leMs === null ? "more" : bucket.leMs >= 1000 ? `≤${bucket.leMs / 1000}s` : `≤${bucket.leMs}ms`;
    children.push(
      svgElement("rect", {
        class: "bar",
        x: round(index * slot + 2, 2),
        y: round(height - 16 - barHeight, 2),
        width: round(slot - 4, 2),
        height: round(barHeight, 2),
        "data-le-ms": bucket.leMs === null ? "inf" : bucket.leMs,
        "data-count": bucket.count,
      }),
    );
    children.push(svgElement("text", { x: round(index * slot + 4, 2), y: height - 4 }, label));
    if (bucket.count > 0) children.push(svgElement("text", { x: round(index * slot + 4, 2), y: round(Math.max(10, height - 20 - barHeight), 2) }, String(bucket.count)));
  });
  chart.replaceChildren(...children);
}

function addEvents(events) {
  const list = byId("events");
  for (const event of events) {
    const item = document.createElement("li");
    item.dataset.seq = String(event.seq);
    item.dataset.kind = event.kind;
    item.dataset.roomId = event.roomId;
    const time = new Date(event.at).toISOString().slice(11, 23);
    item.textContent = `${time} ${event.kind} ${event.roomId}${event.detail ? ` (${event.detail})` : ""}`;
    list.prepend(item);
  }
  while (list.children.length > MAX_EVENTS) list.lastElementChild?.remove();
}

function render(snapshot) {
  show("health", snapshot.health.status, snapshot.health.reasons.length === 0 ? snapshot.health.status : `${snapshot.health.status}: ${snapshot.health.reasons.join("; ")}`);
  show("updated-at", snapshot.at, new Date(snapshot.at).toISOString().slice(11, 19));
  show("rooms-waiting", snapshot.rooms.waiting);
  show("rooms-starting", snapshot.rooms.starting);
  show("rooms-active", snapshot.rooms.active);
  show("rooms-starting-total", snapshot.rooms.totals.starting);
  show("rooms-active-total", snapshot.rooms.totals.active);
  show("rooms-ended-total", snapshot.rooms.totals.ended);
  show("connections", snapshot.connections);
  show("subscribers", snapshot.subscribers);
  const upstream = snapshot.upstream;
  const latest = upstream.series.at(-1);
  show("request-rate", latest === undefined ? 0 : round(latest.perSecond));
  show("request-budget", upstream.budgetPerSecond ?? "none");
  show("upstream-requests", upstream.requests);
  show("rate-limited", upstream.rateLimited);
  show("paused", upstream.pausedUntil !== null, upstream.pausedUntil === null ? "not paused" : `paused after a 429 until ${new Date(upstream.pausedUntil).toISOString().slice(11, 23)}`);
  drawRate(upstream);
  const latency = snapshot.detectionLatency;
  show("latency-count", latency.count);
  show("latency-mean", latency.count === 0 ? 0 : round(latency.sumMs / latency.count), latency.count === 0 ? "-" : String(round(latency.sumMs / latency.count)));
  drawLatency(latency);
  addEvents(snapshot.events);
}

async function poll(token, since) {
  let response;
  try {
    response = await fetch(`dashboard/api/snapshot?since=${since}`, { headers: { authorization: `Bearer ${token}` }, cache: "no-store" });
  } catch {
    setStatus("error", "gateway unreachable; retrying");
    setTimeout(() => void poll(token, since), RETRY_INTERVAL_MS);
    return;
  }
  if (response.status === 401) {
    setStatus("unauthorized", "the token was refused: open this page as /dashboard#token=<the gateway's metrics token>");
    return;
  }
  if (!response.ok) {
    setStatus("error", `the gateway answered ${response.status}; retrying`);
    setTimeout(() => void poll(token, since), RETRY_INTERVAL_MS);
    return;
  }
  const snapshot = await response.json();
  render(snapshot);
  setStatus("live", "live");
  setTimeout(() => void poll(token, snapshot.lastSeq), POLL_INTERVAL_MS);
}

const token = readToken();
if (token === null) setStatus("unauthorized", "no token: open this page as /dashboard#token=<the gateway's metrics token>");
else void poll(token, 0);
