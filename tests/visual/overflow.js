// Every visible element with text of its own (and every SVG text of a chart) whose text is cut: wider than a
// box that clips it, outside an ancestor that clips it, off the right edge of the window, or drawn over other
// text. Elements below the fold of a page longer than the screen are fine, so are hidden ones (a folded sidebar,
// a closed expander). Returns [{what, text, why}].
() => {
  const vw = document.documentElement.clientWidth;
  const main = document.querySelector('[data-testid="stMain"]');
  const out = [];
  const clips = (v) => v === 'hidden' || v === 'clip' || v === 'auto' || v === 'scroll';
  const name = (el) => {
    const id = el.getAttribute('data-testid');
    return el.tagName.toLowerCase() + (id ? `[${id}]` : '') + (el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\s+/).slice(0, 2).join('.') : '');
  };
  const ownText = (el) => [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('')
    .trim();
  const visible = (el, r) => {
    if (r.width < 1 || r.height < 1 || r.right <= 0) return false;
    if (el.checkVisibility && !el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none' && Number(s.opacity) > 0.05;
  };
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') || el.closest('script, style, noscript, [role="tooltip"]')) continue;
    const text = ownText(el);
    if (!text) continue;
    const r = el.getBoundingClientRect();
    if (!visible(el, r)) continue;
    const s = getComputedStyle(el);
    if ((clips(s.overflowX) || s.textOverflow === 'ellipsis') && el.scrollWidth > el.clientWidth + 1) {
      out.push({what: name(el), text: text.slice(0, 80), why: `text ${el.scrollWidth}px wide in a ${el.clientWidth}px box`});
      continue;
    }
    if (r.right > vw + 1) {
      out.push({what: name(el), text: text.slice(0, 80), why: `right edge ${Math.round(r.right)} beyond the window (${vw})`});
      continue;
    }
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const as = getComputedStyle(a);
      const ar = a.getBoundingClientRect();
      if (clips(as.overflowX) && (r.right > ar.right + 1 || r.left < ar.left - 1)) {
        out.push({what: name(el), text: text.slice(0, 80), why: `cut sideways by ${name(a)}`});
        break;
      }
      if ((as.overflowY === 'hidden' || as.overflowY === 'clip') && (r.bottom > ar.bottom + 1 || r.top < ar.top - 1)
          && ar.height > 0 && !a.contains(main)) {  // the page's own frame: that is a page longer than the screen
        out.push({what: name(el), text: text.slice(0, 80), why: `cut at the top or bottom by ${name(a)}`});
        break;
      }
    }
  }
  // text drawn over other text (outside the map, whose clock and legend sit on its canvas by design)
  const boxes = [];
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    if (el.closest('svg, [role="tooltip"], [data-testid="explorerDeckMap"]') || !ownText(el)) continue;
    const r = el.getBoundingClientRect();
    if (visible(el, r)) boxes.push([el, r]);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i], [b, rb] = boxes[j];
      if (a.contains(b) || b.contains(a)) continue;
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 2 && h > 2) {
        out.push({what: name(a), text: ownText(a).slice(0, 80), why: `drawn over "${ownText(b).slice(0, 40)}"`});
      }
    }
  }
  // chart text drawn over other chart text (a title over tick labels). Boxes of SVG text include line spacing and
  // rotated labels have slanted boxes, so: unrotated text only, overlapping by more than half a line.
  const svgText = [];
  for (const t of document.querySelectorAll('svg.main-svg text')) {
    const r = t.getBoundingClientRect();
    if (t.textContent.trim() && visible(t, r) && !/rotate/.test(t.getAttribute('transform') || '')) {
      svgText.push([t, r]);
    }
  }
  for (let i = 0; i < svgText.length; i++) {
    for (let j = i + 1; j < svgText.length; j++) {
      const [a, ra] = svgText[i], [b, rb] = svgText[j];
      if (a.contains(b) || b.contains(a) || a.closest('.js-plotly-plot') !== b.closest('.js-plotly-plot')) continue;
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 2 && h > 0.5 * Math.min(ra.height, rb.height)) {
        out.push({what: 'svg text', text: a.textContent.trim().slice(0, 80), why: `drawn over "${b.textContent.trim().slice(0, 40)}"`});
      }
    }
  }
  for (const t of document.querySelectorAll('svg text')) {
    const text = t.textContent.trim();
    if (!text) continue;
    const r = t.getBoundingClientRect();
    if (!visible(t, r)) continue;
    let root = t.closest('svg');
    while (root.parentElement && root.parentElement.closest('svg')) root = root.parentElement.closest('svg');
    const sr = root.getBoundingClientRect();
    if (r.right > sr.right + 2 || r.left < sr.left - 2 || r.top < sr.top - 2 || r.bottom > sr.bottom + 2) {
      out.push({what: 'svg text', text: text.slice(0, 80), why: `outside its chart (${Math.round(r.left)}..${Math.round(r.right)} in ${Math.round(sr.left)}..${Math.round(sr.right)})`});
    }
  }
  return out;
}
