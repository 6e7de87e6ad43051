// Every browser map's drawing area and control bar, in window pixels, with the window's size.
() => {
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height}; };
  return {maps: [...document.querySelectorAll('[data-testid="explorerDeckMap"]')].map((m) =>
            ({canvas: box(m.querySelector('canvas')), bar: box(m.querySelector('.xdm-bar'))})),
          vw: document.documentElement.clientWidth, vh: document.documentElement.clientHeight};
}
