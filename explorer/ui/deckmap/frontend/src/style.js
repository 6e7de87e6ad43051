// Styles of the map element (the component is not style-isolated, so every class starts with "xdm-").
export const CSS = `
.xdm { position: relative; display: flex; flex-direction: column; width: 100%; overflow: hidden; background: #fff; border: 1px solid #d5dbe2;
  border-radius: 6px; font-family: "Source Sans Pro", "Source Sans 3", sans-serif; color: #111; }
.xdm.xdm-fullscreen { border: none; border-radius: 0; height: 100vh !important; }
.xdm-stage { position: relative; flex: 1; min-height: 0; }
.xdm-map { position: absolute; inset: 0; }
.xdm-under { position: absolute; inset: 0; pointer-events: none; }
.xdm-clock { position: absolute; top: 10px; left: 12px; background: rgba(255,255,255,0.88); border: 1px solid #333;
  border-radius: 6px; padding: 4px 10px; font-size: 24px; font-weight: 700; pointer-events: none; z-index: 2; }
.xdm-clock .xdm-offset { font-size: 15px; font-weight: 400; margin-left: 8px; color: #333; }
.xdm-legend { position: absolute; top: 10px; right: 10px; width: 250px; background: rgba(255,255,255,0.92);
  border: 1px solid #999; border-radius: 6px; padding: 6px 8px; font-size: 14px; z-index: 2; }
.xdm-tip { position: absolute; z-index: 3; max-width: 360px; padding: 8px 10px; background: rgba(20,20,20,0.92);
  color: #fff; border-radius: 4px; font-size: 15px; pointer-events: none; line-height: 1.35; }
.xdm-legend-bar { height: 14px; border: 1px solid #333; border-radius: 2px; margin: 4px 0 2px 0; }
.xdm-legend-ends { display: flex; justify-content: space-between; }
.xdm-legend-none { margin: 4px 0; font-weight: 600; }
.xdm-swatch { display: inline-block; width: 14px; height: 14px; border: 1px solid #333; vertical-align: middle;
  margin-right: 6px; }
.xdm-note { position: absolute; left: 12px; bottom: 10px; max-width: 60%; background: rgba(255,255,255,0.9);
  border: 1px solid #999; border-radius: 6px; padding: 4px 8px; font-size: 14px; z-index: 2; }
.xdm-note .xdm-btn { margin-left: 8px; }
.xdm-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 8px; padding: 7px 10px;
  background: #eef2f6; border-top: 1px solid #d5dbe2; }
.xdm-hour { flex: 1; min-width: 80px; accent-color: #0b5cad; height: 24px; }
.xdm-btn { font: inherit; font-size: 15px; padding: 4px 10px; border: 1px solid #8a96a3; border-radius: 6px;
  background: #fff; color: #111; cursor: pointer; white-space: nowrap; }
.xdm-btn[aria-pressed="true"] { background: #0b5cad; color: #fff; border-color: #0b5cad; }
.xdm-play { min-width: 96px; font-weight: 600; }
.xdm-views { display: flex; gap: 0; }
.xdm-views .xdm-btn { border-radius: 0; margin-left: -1px; }
.xdm-views .xdm-btn:first-child { border-radius: 6px 0 0 6px; }
.xdm-views .xdm-btn:last-child { border-radius: 0 6px 6px 0; }
.xdm-speed { font: inherit; font-size: 15px; padding: 3px; border-radius: 6px; border: 1px solid #8a96a3; }
.xdm-narrow .xdm-legend { width: 58%; font-size: 12px; padding: 3px 5px; }
.xdm-narrow .xdm-clock { font-size: 17px; }
.xdm-narrow .xdm-hour { flex-basis: 100%; order: 5; }
.xdm-narrow .xdm-btn, .xdm-narrow .xdm-speed { font-size: 13px; padding: 3px 6px; }
.xdm-narrow .xdm-play { min-width: 0; }
.xdm.xdm-large .xdm-clock { font-size: 34px; }
.xdm.xdm-large .xdm-legend { width: 300px; font-size: 17px; }
.xdm.xdm-large .xdm-btn, .xdm.xdm-large .xdm-speed { font-size: 18px; }
.xdm-fullscreen .xdm-clock { font-size: 44px; }
.xdm-fullscreen .xdm-legend { width: 340px; font-size: 19px; }
`;
