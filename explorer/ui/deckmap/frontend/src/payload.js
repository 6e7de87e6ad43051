// The binary payloads the Python side packs (explorer/render/mapdata.py: pack / unpack):
// "XDM1", a little-endian uint32 header length, the header as UTF-8 JSON, then typed arrays, each
// starting on an 8-byte boundary; header.arrays maps name -> [dtype, byte offset, element count].

const TYPES = { f4: Float32Array, u4: Uint32Array, i4: Int32Array, u2: Uint16Array, u1: Uint8Array };

export function unpack(bytes) {
  const buf = bytes.slice().buffer; // a fresh, aligned buffer (the protobuf's bytes may start anywhere)
  const dv = new DataView(buf);
  const magic = String.fromCharCode(dv.getUint8(0), dv.getUint8(1), dv.getUint8(2), dv.getUint8(3));
  if (magic !== "XDM1") throw new Error("deckmap: not a map payload");
  const n = dv.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
  const base = Math.ceil((8 + n) / 8) * 8;
  const arrays = {};
  for (const [name, [dtype, offset, length]] of Object.entries(header.arrays || {})) {
    arrays[name] = new TYPES[dtype](buf, base + offset, length);
  }
  return { header, arrays };
}

// Payloads by key, kept for the page's life (a few per kind), and promises for keys not here yet: a map
// element may arrive before the element that carries its layers.
const STORE = new Map();
const WAITING = new Map();
const KEEP = 12;

export function remember(payload) {
  const key = payload.header.key;
  STORE.delete(key);
  STORE.set(key, payload);
  while (STORE.size > KEEP) STORE.delete(STORE.keys().next().value);
  for (const resolve of WAITING.get(key) || []) resolve(payload);
  WAITING.delete(key);
}

export function whenStored(key) {
  const hit = STORE.get(key);
  if (hit) return Promise.resolve(hit);
  return new Promise((resolve) => {
    if (!WAITING.has(key)) WAITING.set(key, []);
    WAITING.get(key).push(resolve);
  });
}
