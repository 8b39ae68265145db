// ticketplane dashboard: renders the status view (/api/status) and follows
// its server-sent events (/api/events). Plain browser JavaScript, no build
// step, nothing loaded from elsewhere. Every value reaches the page through
// textContent, never as HTML.
"use strict";

(function () {
  const byId = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
    }
    return node;
  }

  function table(caption, headers, rows) {
    const head = el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)));
    return el("table", {}, el("caption", { class: "visually-hidden" }, caption), el("thead", {}, head), el("tbody", {}, ...rows));
  }

  function podState(p) {
    if (p.draining) return ["draining", "state-draining"];
    if (!p.ready) return ["not ready", "state-waiting"];
    if (!p.routable) return ["waiting for gateways", "state-waiting"];
    return ["serving", "state-serving"];
  }

  function slotBar(p) {
    const bar = el("span", { class: "slots", role: "img", "aria-label": `${p.used} used, ${p.free} free of ${p.slots}${p.draining ? ", draining" : ""}` });
    for (let i = 0; i < p.slots; i++) {
      const kind = i < p.used ? (p.draining ? "draining" : "used") : p.serving ? "free" : "off";
      bar.append(el("span", { class: `slot ${kind}` }));
    }
    return bar;
  }

  function podsTable(app) {
    if (app.pods.length === 0) {
      return el("p", { class: "empty" }, app.mode === "Proxy" ? "No pods: scaled to zero. The next visit brings one back." : "No pods yet.");
    }
    const rows = app.pods.map((p) => {
      const [state, cls] = podState(p);
      return el(
        "tr",
        { "data-pod": p.name },
        el("td", {}, el("code", {}, p.name)),
        el("td", {}, p.address),
        el("td", { class: cls }, state),
        el("td", {}, slotBar(p), " ", `${p.used}/${p.slots}`),
        el("td", { class: "num" }, p.free),
        el("td", { class: "num" }, p.connections),
      );
    });
    return table(`Pods of ${app.app}`, ["pod", "address", "state", "slots used", "free", "WebSockets"], rows);
  }

  function queueBlock(app) {
    if (app.queue.length === 0) return el("p", {}, "Queue: nobody waiting.");
    const items = app.queue.map((q) => el("li", {}, `#${q.position}`, q.reserved ? " — a slot is held for them" : ""));
    return el("div", {}, el("p", {}, `Queue: ${app.queue.length} waiting`), el("ol", { class: "queue" }, ...items));
  }

  function decisionsBlock(app) {
    if (app.decisions.length === 0) return el("p", { class: "empty" }, "No scale decisions yet.");
    const rows = [...app.decisions].reverse().map((d) =>
      el("tr", {}, el("td", {}, new Date(d.time).toLocaleTimeString()), el("td", {}, d.deployment), el("td", { class: "num" }, `${d.from} → ${d.to}`), el("td", {}, d.reason)),
    );
    return el("details", { open: "" }, el("summary", {}, `Recent scale decisions (${app.decisions.length})`), table(`Scale decisions of ${app.app}`, ["time", "deployment", "replicas", "reason"], rows));
  }

  function appSection(app) {
    const f = app.figures || { used: 0, capacity: 0, free: 0, queued: 0, desiredPods: 0 };
    const where = (app.host ? app.host : "any host") + " " + app.pathPrefix;
    return el(
      "article",
      { class: "app", "data-app": app.app, "aria-labelledby": `app-${app.app}` },
      el("div", { class: "app-head" }, el("h3", { id: `app-${app.app}` }, app.app), el("span", { class: `badge ${app.mode}`, title: "Serve: pods take requests; Proxy: scaled to zero, the resolver holds requests" }, app.mode), el("code", {}, where)),
      el("p", { class: "figures" }, `${f.used} of ${f.capacity} slots used · ${f.free} free · ${f.queued} waiting · ${app.connections} WebSockets · ${app.pods.length} pods (wants ${f.desiredPods})`),
      podsTable(app),
      queueBlock(app),
      decisionsBlock(app),
    );
  }

  function renderApps(apps) {
    const root = byId("apps");
    if (apps.length === 0) {
      root.replaceChildren(
        el("p", { class: "empty" }, "No apps yet."),
        el("p", {}, "Add an app to your config file (standalone mode), create a TicketedApp (Kubernetes), or run ", el("code", {}, "npm start"), " for the local demo. It appears here as soon as ticketplane sees it."),
      );
      return;
    }
    const legend = el("p", { class: "legend" }, "Slots:", el("span", { class: "slot used" }), "used", el("span", { class: "slot free" }), "free", el("span", { class: "slot draining" }), "on a draining pod", el("span", { class: "slot off" }), "not taking users");
    root.replaceChildren(legend, ...apps.map(appSection));
  }

  function renderGateways(gateways) {
    const root = byId("gateways");
    if (gateways.length === 0) {
      root.replaceChildren(el("p", { class: "empty" }, "No gateway connected. Envoy (or the dev gateway) connects to ticketplane's xDS address; pods take users once every connected gateway has ACKed them."));
      return;
    }
    const rows = gateways.map((g) =>
      el(
        "tr",
        { "data-node": g.nodeId },
        el("td", {}, el("code", {}, g.nodeId)),
        el("td", {}, g.group),
        el("td", {}, g.protocol),
        el("td", {}, g.waitingForConfig ? "waiting for config" : g.inSync ? "in sync" : "behind"),
        el("td", {}, ...g.types.map((t) => el("div", {}, `${t.type}: `, el("code", {}, t.ackedVersion === null ? "—" : t.ackedVersion.slice(0, 12)), t.inSync ? "" : " (behind)", t.nack ? ` NACK: ${t.nack}` : ""))),
      ),
    );
    root.replaceChildren(table("Gateways", ["node", "group", "protocol", "state", "ACKed versions"], rows));
  }

  function render(status) {
    renderApps(status.apps);
    renderGateways(status.gateways);
    const updated = byId("updated");
    updated.setAttribute("datetime", status.generatedAt);
    updated.textContent = new Date(status.generatedAt).toLocaleTimeString();
  }

  function connection(text, cls) {
    const c = byId("connection");
    if (c.textContent !== text) c.textContent = text;
    c.className = cls;
  }

  const events = new EventSource("api/events");
  events.addEventListener("status", (e) => {
    connection("Live", "live");
    render(JSON.parse(e.data));
  });
  events.addEventListener("error", () => connection("Reconnecting…", "down"));
})();
