// The explorer's map: a Streamlit components-v2 module (no iframe). Two kinds of element share it:
//   * a payload carrier, whose data is bytes (a city's static layers, or a scenario's per-hour
//     quantiles): it stores them by key and draws nothing; Streamlit resends an unchanged element as a
//     reference to the copy the browser already has, so a city's layers travel once;
//   * a map, whose data is a small JSON naming the payloads it draws and its options.
// Hour, view, 2D/3D, Play and the camera live here: changing them redraws the map in the browser,
// with no server rerun. Clicks go back to Python as trigger values ("click").

import { Deck, FlyToInterpolator } from "@deck.gl/core";
import { ColumnLayer, LineLayer, PathLayer, ScatterplotLayer, SolidPolygonLayer } from "@deck.gl/layers";
import { cellTip, scenarioFrame, sensorTip, statCellTip, statFrame, statSensorTip } from "./frames.js";
import { remember, unpack, whenStored } from "./payload.js";
import { CSS } from "./style.js";

const ROAD_PX = 3; // width of the roads coloured by their sensor, pixels
const SPEEDS = { "0.5×": 1600, "1×": 800, "2×": 400, "4×": 200 };
const VIEW_NAMES = { baseline: "Baseline", scenario: "Scenario", difference: "Difference" };
const UI_STATE = new Map(); // per map key: hour, view, 3D, speed, camera (kept while the page lives)
// Counters for tests and benchmarks: renders and a log of the first frame drawn after each change; `sync`
// makes that frame's time include the rasteriser's work, `noTransitions` draws each hour at once, `capture`
// hashes every frame's pixels (tests).
const STATS = (window.__deckmap = window.__deckmap || { renders: 0, log: [], frames: [], sync: false });

function injectStyle() {
  if (document.getElementById("xdm-style")) return;
  const s = document.createElement("style");
  s.id = "xdm-style";
  s.textContent = CSS;
  document.head.appendChild(s);
}

function el(tag, cls, attrs = {}, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function legendNode(spec, large) {
  const box = el("div", "xdm-legend-box", { role: "img", "aria-label": `${spec.title} legend` });
  const title = el("div", "xdm-legend-title");
  title.append(el("b", "", {}, spec.title), document.createTextNode(` (${spec.unit})`));
  box.append(title);
  if (spec.no_change) {
    box.append(el("div", "xdm-legend-none", {}, spec.no_change));
  } else {
    const stops = spec.palette.map((c) => `rgb(${c[0]},${c[1]},${c[2]})`).join(", ");
    const bar = el("div", "xdm-legend-bar");
    bar.style.background = `linear-gradient(to right, ${stops})`;
    const ends = el("div", "xdm-legend-ends");
    ends.append(el("span", "", {}, spec.lo), el("span", "", {}, spec.hi));
    box.append(bar, ends);
  }
  for (const [colour, label] of spec.extra || []) {
    const row = el("div", "xdm-legend-extra");
    const sw = el("span", "xdm-swatch");
    sw.style.background = colour;
    row.append(sw, document.createTextNode(label));
    box.append(row);
  }
  if (large) box.classList.add("xdm-large");
  return box;
}

/** Points as (x, y, 0) triples (the point layers read three components), made once per payload. */
function xyz(payload, name) {
  const key = `${name}3`;
  if (!payload.arrays[key]) {
    const xy = payload.arrays[name];
    const out = new Float32Array((xy.length / 2) * 3);
    for (let i = 0, j = 0; i < xy.length; i += 2, j += 3) {
      out[j] = xy[i];
      out[j + 1] = xy[i + 1];
    }
    payload.arrays[key] = out;
  }
  return payload.arrays[key];
}

/**
 * Paths (flat lon/lat, start indices) as line segments: (x, y, 0) source and target triples and each segment's
 * path. Software WebGL draws a LineLayer several times faster than a PathLayer (whose joints are computed per
 * vertex), and every frame redraws every layer.
 */
function segments(payload, pos, start) {
  const key = `${pos}-segments`;
  if (!payload.arrays[key]) {
    const p = payload.arrays[pos];
    const st = payload.arrays[start];
    const n = st[st.length - 1] - (st.length - 1);
    const src = new Float32Array(n * 3);
    const dst = new Float32Array(n * 3);
    const path = new Uint32Array(n);
    let k = 0;
    for (let i = 0; i < st.length - 1; i++) {
      for (let v = st[i]; v < st[i + 1] - 1; v++, k++) {
        src[3 * k] = p[2 * v];
        src[3 * k + 1] = p[2 * v + 1];
        dst[3 * k] = p[2 * v + 2];
        dst[3 * k + 1] = p[2 * v + 3];
        path[k] = i;
      }
    }
    payload.arrays[key] = { length: n, path, attributes: { getSourcePosition: { value: src, size: 3 }, getTargetPosition: { value: dst, size: 3 } } };
  }
  return payload.arrays[key];
}

/**
 * Whether this browser draws WebGL in software (SwiftShader, llvmpipe). There, multisampling and instanced draws
 * (deck.gl draws one instance per line segment, point or column) are what a frame costs: measured in headless
 * Chromium (bench/profile_map.py), 4,459 road segments took ~100 ms as a LineLayer and ~20 ms as plain
 * triangles, and multisampling added ~40 % to the hour's layers. A GPU keeps antialiasing.
 */
let SOFTWARE = null;
function softwareGL() {
  if (SOFTWARE === null) {
    SOFTWARE = false;
    try {
      const gl = document.createElement("canvas").getContext("webgl2");
      if (gl) {
        const info = gl.getExtension("WEBGL_debug_renderer_info");
        const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
        SOFTWARE = /swiftshader|llvmpipe|softpipe|software/i.test(name);
        const lose = gl.getExtension("WEBGL_lose_context");
        if (lose) lose.loseContext();
      }
    } catch (err) {
      SOFTWARE = false;
    }
  }
  return SOFTWARE;
}

/** A payload's binary layer data object, made once (deck.gl compares data by identity: a new object every hour
 * would re-tessellate polygons and re-upload positions). */
function once(payload, key, make) {
  if (!payload.arrays[key]) payload.arrays[key] = make();
  return payload.arrays[key];
}

/**
 * Road segments as thin flat quads (closed lon/lat rings of 5 vertices) about `px` pixels wide at zoom `zoom`
 * (rounded to half levels, so they are rebuilt only when the zoom really changes): one plain draw of triangles
 * instead of one instance per segment, which software WebGL pays for (see softwareGL). `path` maps each quad
 * to its road.
 */
function roadQuads(payload, zoom, px) {
  const z = Math.round(zoom * 2) / 2;
  const key = `rquads|${z}|${px}`;
  const hit = payload.arrays.rquads;
  if (hit && hit.key === key) return hit;
  const seg = segments(payload, "rpos", "rstart");
  const n = seg.length;
  const s = seg.attributes.getSourcePosition.value;
  const t = seg.attributes.getTargetPosition.value;
  const c = Math.cos((payload.header.view.latitude * Math.PI) / 180);
  const half = ((px / 2) * 360 * c) / (512 * 2 ** z); // degrees of latitude per half width at this zoom
  const pos = new Float32Array(n * 10);
  const startIndices = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const x0 = s[3 * i];
    const y0 = s[3 * i + 1];
    const x1 = t[3 * i];
    const y1 = t[3 * i + 1];
    const dx = (x1 - x0) * c;
    const dy = y1 - y0;
    const len = Math.hypot(dx, dy) || 1;
    const ox = ((-dy / len) * half) / c;
    const oy = (dx / len) * half;
    pos.set([x0 + ox, y0 + oy, x1 + ox, y1 + oy, x1 - ox, y1 - oy, x0 - ox, y0 - oy, x0 + ox, y0 + oy], 10 * i);
    startIndices[i] = 5 * i;
  }
  startIndices[n] = 5 * n;
  payload.arrays.rquads = { key, length: n, startIndices, attributes: { getPolygon: { value: pos, size: 2 } }, path: seg.path };
  return payload.arrays.rquads;
}

/** The camera part of a view state (without transition settings), for the lower deck. */
function camera(v) {
  return { longitude: v.longitude, latitude: v.latitude, zoom: v.zoom, pitch: v.pitch || 0, bearing: v.bearing || 0 };
}

class MapView {
  constructor(parent, setTrigger) {
    injectStyle();
    this.setTrigger = setTrigger;
    this.root = el("div", "xdm", { "data-testid": "explorerDeckMap" });
    this.underDiv = el("div", "xdm-under"); // the layers that do not change with the hour
    this.mapDiv = el("div", "xdm-map");
    this.clock = el("div", "xdm-clock", { "aria-live": "polite" });
    this.legend = el("div", "xdm-legend");
    this.note = el("div", "xdm-note");
    this.bar = el("div", "xdm-bar");
    this.stage = el("div", "xdm-stage");
    this.tip = el("div", "xdm-tip", { role: "tooltip" });
    this.tip.style.display = "none";
    this.stage.append(this.underDiv, this.mapDiv, this.clock, this.legend, this.note, this.tip);
    this.root.append(this.stage, this.bar);
    parent.appendChild(this.root);
    this.resize = new ResizeObserver(() => this.root.classList.toggle("xdm-narrow", this.root.clientWidth < 640));
    this.resize.observe(this.root);
    this.timer = null;
    this.frames = new Map();
    this.version = 0;
    this.deck = null;
    this.onFullscreen = () => this.root.classList.toggle("xdm-fullscreen", document.fullscreenElement === this.root);
    document.addEventListener("fullscreenchange", this.onFullscreen);
  }

  destroy() {
    this.stop();
    this.resize.disconnect();
    document.removeEventListener("fullscreenchange", this.onFullscreen);
    if (this.deck) this.deck.finalize();
    if (this.under) this.under.finalize();
    this.root.remove();
  }

  async update(opts) {
    const version = ++this.version;
    this.root.style.height = `${opts.height}px`;
    this.root.classList.toggle("xdm-large", !!opts.large);
    this.root.dataset.ready = "false";
    const [base, data] = await Promise.all([whenStored(opts.base), whenStored(opts.data)]);
    if (version !== this.version) return; // a newer update came in meanwhile
    const sameBase = this.base && this.base.header.key === base.header.key;
    const sameData = this.data && this.data.header.key === data.header.key;
    const oldCell = this.opts ? this.opts.cell : null;
    this.opts = opts;
    this.base = base;
    this.data = data;
    if (!sameData) this.frames.clear();
    const h = data.header;
    const saved = UI_STATE.get(opts.id) || {};
    const H = h.kind === "scenario" ? h.hours.length : 1;
    this.state = {
      hour: Math.min(saved.hour ?? opts.hour ?? 0, H - 1),
      view: saved.view ?? opts.view ?? "difference",
      threeD: saved.threeD ?? !!opts.three_d,
      speed: saved.speed ?? "1×",
      playing: sameData && this.state ? this.state.playing : false,
    };
    if (!sameData) this.stop();
    UI_STATE.set(opts.id, { ...saved, ...this.state });
    let view = sameBase && this.viewState ? this.viewState : saved.camera && saved.base === base.header.key ? saved.camera : null;
    if (!view) view = { ...base.header.view, pitch: this.state.threeD ? 45 : 0, bearing: 0 };
    if (opts.cell && opts.cell !== oldCell && h.detail) {
      view = { ...view, ...h.detail.view, transitionDuration: 600, transitionInterpolator: new FlyToInterpolator() };
    }
    this.ensureDeck(view, !sameBase || (opts.cell && opts.cell !== oldCell));
    this.buildBar();
    this.render();
  }

  /**
   * Two decks, one over the other: the lower draws the city's layers that do not change with the hour (zones
   * and their outlines, Home's grey roads) and is redrawn only when the camera moves; the upper draws what an
   * hour step changes. An hour step then redraws only the upper one.
   */
  ensureDeck(view, jump) {
    if (!this.deck) {
      this.viewState = view;
      const deviceProps = softwareGL() ? { webgl: { antialias: false } } : undefined;
      // the lower deck keeps antialiasing everywhere: it is drawn only when the camera moves, and its 1-pixel
      // zone outlines break into dashes without it
      this.under = new Deck({
        parent: this.underDiv, width: "100%", height: "100%", viewState: camera(view), controller: false,
        useDevicePixels: true, layers: [],
      });
      this.deck = new Deck({
        parent: this.mapDiv,
        width: "100%",
        height: "100%",
        initialViewState: view,
        controller: { dragRotate: true, touchRotate: true },
        onViewStateChange: ({ viewState }) => {
          this.viewState = viewState;
          this.under.setProps({ viewState: camera(viewState) });
          const s = UI_STATE.get(this.opts.id) || {};
          UI_STATE.set(this.opts.id, { ...s, camera: viewState, base: this.base.header.key });
          if (this.quads && this.quads.key !== this.quadKey()) this.render(); // roads rebuilt for the new zoom
        },
        onHover: (info) => this.hover(info),
        onClick: (info) => this.click(this.pick(info.x, info.y)),
        onAfterRender: () => this.afterRender(),
        useDevicePixels: true,
        deviceProps,
      });
    } else if (jump) {
      this.viewState = view;
      this.deck.setProps({ initialViewState: view });
      if (!view.transitionDuration) this.under.setProps({ viewState: camera(view) });
    }
  }

  afterRender() {
    const gl = this.deck && this.deck.device && this.deck.device.gl;
    if (STATS.capture && gl) this.fingerprint(gl);
    if (!this.pending) return;
    const p = this.pending;
    this.pending = null;
    if (STATS.sync && gl) {
      // wait until the software rasteriser has really drawn the frame (a benchmark's stopwatch)
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
    }
    const t = performance.now();
    STATS.renders += 1;
    STATS.log.push({ id: this.opts.id, hour: p.hour, view: p.view, data: p.data, t });
    if (STATS.log.length > 500) STATS.log.splice(0, STATS.log.length - 500);
    this.root.dataset.renderedHour = String(p.hour);
    this.root.dataset.renderedView = p.view;
    this.root.dataset.renderedData = p.data;
    this.root.dataset.ready = "true";
  }

  /** Tests only (window.__deckmap.capture = true): a hash of every frame's pixels, read from the canvas. */
  /**
   * Tests only (window.__deckmap.capture = true): a hash of every frame's pixels (the upper deck's, which an hour
   * step redraws) and the share of pixels drawn by either deck (the lower one holds zones and outlines).
   */
  fingerprint(gl) {
    const w = gl.drawingBufferWidth;
    const h = gl.drawingBufferHeight;
    if (!this.capBuf || this.capBuf.length !== w * h * 4) this.capBuf = new Uint8Array(w * h * 4);
    const buf = this.capBuf;
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, buf);
    const ug = this.under && this.under.device && this.under.device.gl;
    let low = null;
    if (ug && ug.drawingBufferWidth === w && ug.drawingBufferHeight === h) {
      if (!this.capLow || this.capLow.length !== buf.length) this.capLow = new Uint8Array(buf.length);
      low = this.capLow;
      ug.readPixels(0, 0, w, h, ug.RGBA, ug.UNSIGNED_BYTE, low);
    }
    let fp = 2166136261;
    let drawn = 0;
    for (let i = 0; i < buf.length; i += 12) {
      fp = Math.imul(fp ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)), 16777619) >>> 0;
      drawn += buf[i + 3] > 0 || (low && low[i + 3] > 0) ? 1 : 0;
    }
    STATS.frames = STATS.frames || [];
    STATS.frames.push({ id: this.opts.id, hour: this.state.hour, view: this.state.view, fp, drawn: drawn / (buf.length / 12) });
    if (STATS.frames.length > 5000) STATS.frames.splice(0, STATS.frames.length - 5000);
  }

  frame(hour, view) {
    const k = `${hour}|${view}`;
    let f = this.frames.get(k);
    if (f) return f;
    const h = this.data.header;
    const a = this.data.arrays;
    const alpha = h.mode === "cells" ? 235 : 235;
    if (h.kind === "scenario") {
      f = scenarioFrame(a, h.hours.length, h.n, hour, view, h.scales, h.sign, h.palettes, alpha);
      if (h.detail) {
        const d = h.detail;
        f.detail = scenarioFrame({ qb: a.dqb, qs: a.dqs, qd: a.dqd }, h.hours.length, d.ids.length, hour, view,
          d.scales, h.sign, h.palettes, 255);
      }
    } else {
      f = statFrame(a.values, h.scales, h.palettes, 230);
    }
    if (this.frames.size > 200) this.frames.clear();
    this.frames.set(k, f);
    return f;
  }

  /** The layers that do not change with the hour or view (drawn by the lower deck). */
  staticLayers() {
    const ba = this.base.arrays;
    const h = this.data.header;
    const out = [];
    if (ba.zpos) {
      const zones = once(this.base, "zones-data", () => ({ length: ba.zstart.length - 1, startIndices: ba.zstart, attributes: { getPolygon: { value: ba.zpos, size: 2 } } }));
      out.push(new SolidPolygonLayer({ id: "zones", data: zones, _normalize: false, positionFormat: "XY", getFillColor: [11, 92, 173, 28], pickable: false }));
      out.push(new LineLayer({ id: "zone-lines", data: segments(this.base, "zpos", "zstart"), getColor: [11, 92, 173, 140], getWidth: 1, pickable: false }));
    }
    if (ba.rpos && h.kind !== "scenario") {
      out.push(new LineLayer({ id: "roads", data: segments(this.base, "rpos", "rstart"), pickable: false, getColor: [90, 90, 90, 200], getWidth: 2 }));
    }
    return out;
  }

  /** The quads' key at the current zoom (roadQuads rebuilds them when it changes). */
  quadKey() {
    return `rquads|${Math.round((this.viewState ? this.viewState.zoom : this.base.header.view.zoom) * 2) / 2}|${ROAD_PX}`;
  }

  /** The layers an hour step or a view change redraws (the upper deck). */
  layers() {
    const b = this.base.header;
    const ba = this.base.arrays;
    const h = this.data.header;
    const s = this.state;
    const f = this.frame(s.hour, s.view);
    const trig = `${h.key}|${s.hour}|${s.view}`;
    const dur = STATS.noTransitions ? 0 : this.state.playing ? Math.min(0.6 * SPEEDS[s.speed], 500) : 250;
    const transitions = { getFillColor: dur, getElevation: dur, getColor: dur };
    const out = [];
    const cells = b.mode === "cells";
    this.quads = null;
    if (ba.rpos && h.kind === "scenario" && !cells) {
      // roads take their nearest sensor's colour: flat quads (one plain draw), rebuilt when the zoom changes
      const quads = (this.quads = roadQuads(this.base, this.viewState ? this.viewState.zoom : b.view.zoom, ROAD_PX));
      const rs = ba.rsensor;
      const seg = quads.path;
      const c = f.colours;
      out.push(new SolidPolygonLayer({
        id: "roads", data: quads, _normalize: false, positionFormat: "XY", pickable: false,
        getFillColor: (_, { index }) => { const j = rs[seg[index]] * 4; return [c[j], c[j + 1], c[j + 2], 255]; }, // opaque: no darker dots where quads overlap
        updateTriggers: { getFillColor: trig }, transitions: { getFillColor: dur },
        parameters: { depthWriteEnabled: false }, // flat on the ground: the sensors drawn next stay on top
      }));
    }
    const colour = (_, { index }) => { const j = index * 4; return [f.colours[j], f.colours[j + 1], f.colours[j + 2], f.colours[j + 3]]; };
    if (cells) {
      const data = once(this.base, "cells-data", () => ({ length: ba.cstart.length - 1, startIndices: ba.cstart, attributes: { getPolygon: { value: ba.cpos, size: 2 } } }));
      const extruded = s.threeD && h.kind === "scenario";
      out.push(new SolidPolygonLayer({
        id: "cells", data, _normalize: false, positionFormat: "XY", extruded, pickable: false,
        getFillColor: colour, getElevation: (_, { index }) => f.heights[index] * b.edge_m * 12,
        opacity: this.opts.cell ? 0.45 : 0.9, updateTriggers: { getFillColor: trig, getElevation: trig }, transitions,
      }));
      if (this.opts.cell && h.detail) {
        const i = b.cell_ids.indexOf(this.opts.cell);
        if (i >= 0) {
          const ring = ba.cpos.slice(ba.cstart[i] * 2, ba.cstart[i + 1] * 2);
          out.push(new PathLayer({ id: "cell-outline", data: [{ p: ring }], getPath: (d) => d.p, positionFormat: "XY", getColor: [0, 0, 0, 255], getWidth: 3, widthUnits: "pixels", pickable: false }));
        }
        const d = h.detail;
        const fd = f.detail;
        out.push(new ScatterplotLayer({
          id: "detail", data: once(this.data, "detail-data", () => ({ length: d.ids.length, attributes: { getPosition: { value: xyz(this.data, "dpos"), size: 3 } } })),
          getFillColor: (_, { index }) => { const j = index * 4; return [fd.colours[j], fd.colours[j + 1], fd.colours[j + 2], 255]; },
          getRadius: b.edge_m / 8, radiusMinPixels: 4, radiusMaxPixels: 14, stroked: true, getLineColor: [20, 20, 20, 255],
          lineWidthMinPixels: 1, pickable: false, updateTriggers: { getFillColor: trig }, transitions,
        }));
      }
    } else {
      const n = ba.spos.length / 2;
      const data = once(this.base, "sensors-data", () => ({ length: n, attributes: { getPosition: { value: xyz(this.base, "spos"), size: 3 } } }));
      const r = b.radius_m;
      if (h.kind === "scenario" && s.threeD) {
        out.push(new ColumnLayer({
          // an id of its own: deck.gl reused the column layer's state for the 2D points
          id: "sensors-3d", data, getFillColor: colour, getElevation: (_, { index }) => f.heights[index], elevationScale: r * 40,
          radius: r, diskResolution: 12, extruded: true, coverage: 0.9, pickable: false,
          updateTriggers: { getFillColor: trig, getElevation: trig }, transitions,
        }));
      } else {
        out.push(new ScatterplotLayer({
          id: "sensors", data, getFillColor: colour, getRadius: h.kind === "scenario" ? r : 150, radiusMinPixels: h.kind === "scenario" ? 5 : 3.6,
          radiusMaxPixels: h.kind === "scenario" ? 16 : 15, stroked: true, getLineColor: [20, 20, 20, 255], lineWidthMinPixels: 1,
          pickable: false, updateTriggers: { getFillColor: trig }, transitions,
        }));
      }
      const sel = this.opts.selected != null ? b.ids.indexOf(this.opts.selected) : -1;
      if (sel >= 0) {
        out.push(new ScatterplotLayer({
          id: "selected", data: [{ p: [ba.spos[2 * sel], ba.spos[2 * sel + 1]] }], getPosition: (d) => d.p, getRadius: r * 2.2,
          filled: false, stroked: true, getLineColor: [0, 0, 0, 255], lineWidthMinPixels: 3, pickable: false,
        }));
      }
    }
    return out;
  }

  render() {
    const h = this.data.header;
    const s = this.state;
    this.pending = { hour: s.hour, view: s.view, data: h.key };
    this.root.dataset.hour = String(s.hour);
    this.root.dataset.view = s.view;
    this.root.dataset.threeD = String(s.threeD);
    this.root.dataset.playing = String(s.playing);
    const underKey = `${this.base.header.key}|${h.kind}`;
    if (this.underKey !== underKey) {
      this.underKey = underKey;
      this.under.setProps({ layers: this.staticLayers() });
    }
    this.deck.setProps({ layers: this.layers() });
    this.drawOverlays();
    UI_STATE.set(this.opts.id, { ...(UI_STATE.get(this.opts.id) || {}), hour: s.hour, view: s.view, threeD: s.threeD, speed: s.speed });
  }

  drawOverlays() {
    const h = this.data.header;
    const s = this.state;
    if (h.kind === "scenario") {
      this.clock.replaceChildren(el("span", "xdm-time", {}, h.hours[s.hour]), el("span", "xdm-offset", {}, `+${s.hour} h`));
      this.clock.style.display = "";
    } else {
      this.clock.style.display = "none";
    }
    const spec = h.kind === "scenario" ? h.legends[s.view] : h.legend;
    this.legend.replaceChildren(legendNode(spec, !!this.opts.large));
    this.note.replaceChildren();
    if (this.opts.note) this.note.append(el("span", "", {}, this.opts.note));
    if (this.opts.cell) {
      const all = el("button", "xdm-btn", { type: "button" }, "Show all areas");
      all.onclick = () => this.setTrigger("click", { kind: "cell", id: null });
      this.note.append(all);
    }
    this.note.style.display = this.note.childNodes.length ? "" : "none";
    if (this.slider) this.slider.value = String(s.hour);
    if (this.playBtn) {
      this.playBtn.textContent = s.playing ? "⏸ Pause" : "▶ Play";
      this.playBtn.setAttribute("aria-pressed", String(s.playing));
    }
    for (const [v, btn] of Object.entries(this.viewBtns || {})) btn.setAttribute("aria-pressed", String(v === s.view));
    if (this.btn3d) this.btn3d.setAttribute("aria-pressed", String(s.threeD));
  }

  buildBar() {
    const h = this.data.header;
    const bar = this.bar;
    bar.replaceChildren();
    this.slider = null;
    this.playBtn = null;
    this.viewBtns = {};
    this.btn3d = null;
    if (h.kind === "scenario") {
      const H = h.hours.length;
      this.playBtn = el("button", "xdm-btn xdm-play", { type: "button", "aria-label": "Play" });
      this.playBtn.onclick = () => (this.state.playing ? this.stop(true) : this.play());
      this.slider = el("input", "xdm-hour", { type: "range", min: "0", max: String(H - 1), step: "1", "aria-label": "Hour" });
      this.slider.value = String(this.state.hour);
      this.slider.oninput = () => this.setHour(Number(this.slider.value), false);
      const speed = el("select", "xdm-speed", { "aria-label": "Speed" });
      for (const name of Object.keys(SPEEDS)) speed.append(el("option", "", { value: name }, name));
      speed.value = this.state.speed;
      speed.onchange = () => {
        this.state.speed = speed.value;
        if (this.state.playing) this.play(true);
      };
      const views = el("div", "xdm-views", { role: "group", "aria-label": "Map view" });
      for (const [v, label] of Object.entries(VIEW_NAMES)) {
        const b = el("button", "xdm-btn", { type: "button", "aria-pressed": "false" }, label);
        b.onclick = () => {
          this.state.view = v;
          this.render();
        };
        views.append(b);
        this.viewBtns[v] = b;
      }
      this.btn3d = el("button", "xdm-btn", { type: "button", "aria-pressed": "false" }, "3D");
      this.btn3d.onclick = () => this.set3D(!this.state.threeD);
      bar.append(this.playBtn, this.slider, speed, views, this.btn3d);
    }
    const fs = el("button", "xdm-btn xdm-fs", { type: "button", title: "Show the map on the whole screen (Esc to leave)" },
      "Full screen");
    fs.onclick = () => (document.fullscreenElement ? document.exitFullscreen() : this.root.requestFullscreen?.());
    bar.append(fs);
  }

  set3D(on) {
    this.state.threeD = on;
    const v = { ...(this.viewState || this.base.header.view), pitch: on ? 45 : 0, transitionDuration: 400 };
    this.viewState = v;
    this.deck.setProps({ initialViewState: v });
    this.render();
  }

  setHour(hour) {
    this.state.hour = hour;
    this.render();
  }

  play(restart = false) {
    const H = this.data.header.hours.length;
    this.stop();
    if (!restart && this.state.hour >= H - 1) this.state.hour = 0;
    this.state.playing = true;
    this.render();
    this.timer = setInterval(() => {
      if (this.state.hour >= H - 1) {
        this.stop(true);
        return;
      }
      this.state.hour += 1;
      this.render();
    }, SPEEDS[this.state.speed]);
  }

  stop(redraw = false) {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.state) this.state.playing = false;
    if (redraw) this.render();
  }

  /**
   * What is under the pointer, found on the CPU: the nearest drawn point (sensor, or a selected area's sensor)
   * within 14 px, else the h3 area whose centre is nearest within its own size. (deck.gl's GPU picking returned
   * nothing under SwiftShader with deck.gl 9.4; a few thousand projections per pointer move cost well under 1 ms.)
   */
  pick(x, y) {
    if (!this.deck || x == null || x < 0) return { layer: null, index: -1 };
    const vp = this.deck.getViewports()[0];
    if (!vp) return { layer: null, index: -1 };
    const nearest = (pos, limit) => {
      let best = -1;
      let bestD = limit;
      for (let k = 0; k < pos.length / 2; k++) {
        const [px, py] = vp.project([pos[2 * k], pos[2 * k + 1]]);
        const d = Math.hypot(px - x, py - y);
        if (d < bestD) {
          best = k;
          bestD = d;
        }
      }
      return best;
    };
    const ba = this.base.arrays;
    if (this.data.arrays.dpos) {
      const k = nearest(this.data.arrays.dpos, 14);
      if (k >= 0) return { layer: { id: "detail" }, index: k };
    }
    if (ba.spos) {
      const k = nearest(ba.spos, 14);
      return k >= 0 ? { layer: { id: "sensors" }, index: k } : { layer: null, index: -1 };
    }
    if (ba.cpos) {
      if (!ba.ccentre) {
        const st = ba.cstart;
        const c = new Float32Array((st.length - 1) * 2);
        for (let i = 0; i < st.length - 1; i++) {
          let sx = 0;
          let sy = 0;
          for (let v = st[i]; v < st[i + 1] - 1; v++) {
            sx += ba.cpos[2 * v];
            sy += ba.cpos[2 * v + 1];
          }
          const n = st[i + 1] - 1 - st[i];
          c[2 * i] = sx / n;
          c[2 * i + 1] = sy / n;
        }
        ba.ccentre = c;
      }
      const [cx, cy] = vp.project([ba.ccentre[0], ba.ccentre[1]]);
      const [vx, vy] = vp.project([ba.cpos[0], ba.cpos[1]]);
      const k = nearest(ba.ccentre, Math.max(Math.hypot(vx - cx, vy - cy), 4));
      if (k >= 0) return { layer: { id: "cells" }, index: k };
    }
    return { layer: null, index: -1 };
  }

  hover(info) {
    const text = this.tooltip(this.pick(info.x, info.y));
    if (!text) {
      this.tip.style.display = "none";
      return;
    }
    this.tip.innerHTML = text.html; // built from escaped parts only (frames.js escape)
    this.tip.style.display = "";
    const w = this.stage.clientWidth;
    this.tip.style.left = `${Math.min(info.x + 14, Math.max(w - 370, 0))}px`;
    this.tip.style.top = `${info.y + 14}px`;
  }

  tooltip({ layer, index }) {
    if (!layer || index < 0) return null;
    const b = this.base.header;
    const h = this.data.header;
    const a = this.data.arrays;
    const s = this.state;
    const style = { fontSize: "15px", maxWidth: "360px" };
    let text = null;
    if (h.kind === "scenario") {
      if (layer.id === "sensors") text = sensorTip(b.labels[index], b.ids[index], a, h.hours.length, h.n, s.hour, index, s.view, h.unit);
      else if (layer.id === "detail") text = sensorTip(h.detail.labels[index], h.detail.ids[index], { qb: a.dqb, qs: a.dqs, qd: a.dqd }, h.hours.length, h.detail.ids.length, s.hour, index, s.view, h.unit);
      else if (layer.id === "cells") {
        const v = s.view === "baseline" ? "b" : "s";
        const k = s.hour * h.n + index;
        text = cellTip(a, h.hours.length, h.n, s.hour, index, s.view, h.unit, b.cell_counts[index], a[`mn${v}`][k], a[`mx${v}`][k]);
      }
    } else if (layer.id === "sensors") {
      text = statSensorTip(b.labels[index], b.ids[index], h.label, a.values[index], h.share);
    } else if (layer.id === "cells") {
      text = statCellTip(h.label, a.values[index], b.cell_counts[index], a.lo[index], a.hi[index], h.share);
    }
    return text ? { html: text, style } : null;
  }

  click({ layer, index }) {
    if (!layer || index < 0) return;
    const b = this.base.header;
    if (layer.id === "sensors") this.setTrigger("click", { kind: "sensor", id: b.ids[index] });
    else if (layer.id === "detail") this.setTrigger("click", { kind: "sensor", id: this.data.header.detail.ids[index] });
    else if (layer.id === "cells") this.setTrigger("click", { kind: "cell", id: b.cell_ids[index] });
  }
}

function hideCarrier(parent) {
  const node = parent instanceof ShadowRoot ? parent.host : parent;
  const box = node.closest && node.closest('[data-testid="stElementContainer"]');
  if (box) box.style.display = "none";
}

export default function deckmap(component) {
  const { data, parentElement, setTriggerValue } = component;
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) {
    const payload = unpack(data instanceof Uint8Array ? data : new Uint8Array(data));
    remember(payload);
    STATS.carried = STATS.carried || [];
    STATS.carried.push({ key: payload.header.key, t: performance.now() }); // when each payload arrived (bench)
    if (STATS.carried.length > 100) STATS.carried.splice(0, STATS.carried.length - 100);
    hideCarrier(parentElement);
    parentElement.dataset && (parentElement.dataset.payload = payload.header.key);
    return undefined;
  }
  if (!data || typeof data !== "object") return undefined;
  let view = parentElement.__xdm;
  if (!view) {
    view = new MapView(parentElement, setTriggerValue);
    parentElement.__xdm = view;
  }
  view.setTrigger = setTriggerValue;
  view.update(data).catch((err) => {
    console.error("deckmap", err);
    view.root.dataset.error = String(err);
  });
  return () => {
    view.destroy();
    delete parentElement.__xdm;
  };
}
