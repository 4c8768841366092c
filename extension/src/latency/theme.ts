/**
 * The colors and font the charts take from JupyterLab's theme. Plotly draws SVG with colors it
 * is given, not CSS variables, so they are read from the widget's computed style, and read
 * again when the theme changes. No DOM types: node tests pass a stand-in for the style.
 */
import type { LatencyMode } from "../../../kernel/schema";

export interface ChartTheme {
  background: string;
  font: string;
  fontFamily: string;
  muted: string;
  grid: string;
  line: string;
  hoverBackground: string;
  modes: Record<LatencyMode, string>;
}

/** Fallbacks for a page without JupyterLab's variables (a plain page, a test). */
const FALLBACK: ChartTheme = {
  background: "white",
  font: "rgba(0, 0, 0, 0.87)",
  fontFamily: "system-ui, sans-serif",
  muted: "rgba(0, 0, 0, 0.54)",
  grid: "#e0e0e0",
  line: "#bdbdbd",
  hoverBackground: "#f5f5f5",
  modes: { dynamic: "#1976d2", static: "#f57c00", loop: "#757575", ort: "#7b1fa2" },
};

/** What readTheme needs of a CSSStyleDeclaration (getComputedStyle's result). */
interface StyleLookup {
  getPropertyValue(name: string): string;
}

export function readTheme(style: StyleLookup): ChartTheme {
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    background: v("--jp-layout-color0", FALLBACK.background),
    font: v("--jp-ui-font-color1", FALLBACK.font),
    fontFamily: v("--jp-ui-font-family", FALLBACK.fontFamily),
    muted: v("--jp-ui-font-color2", FALLBACK.muted),
    grid: v("--jp-border-color2", FALLBACK.grid),
    line: v("--jp-border-color1", FALLBACK.line),
    hoverBackground: v("--jp-layout-color1", FALLBACK.hoverBackground),
    // latency.css maps each mode to a theme color.
    modes: {
      dynamic: v("--dynbatch-latency-dynamic", FALLBACK.modes.dynamic),
      static: v("--dynbatch-latency-static", FALLBACK.modes.static),
      loop: v("--dynbatch-latency-loop", FALLBACK.modes.loop),
      ort: v("--dynbatch-latency-ort", FALLBACK.modes.ort),
    },
  };
}
