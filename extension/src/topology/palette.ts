/**
 * Canvas colors and fonts, read from the widget's computed style: topology.css defines them from
 * JupyterLab's theme variables, so the canvas follows the light and dark themes like the DOM does.
 */
import type { Verdict } from "../../../kernel/schema";

export interface Palette {
  background: string;
  nodeBackground: string;
  text: string;
  textMuted: string;
  edge: string;
  selected: string;
  match: string;
  /** Outline of a layer fixForDynamicBatch() changed. */
  changed: string;
  verdict: Record<Verdict, string>;
  uiFont: string;
  codeFont: string;
}

export function readPalette(el: Element): Palette {
  const style = getComputedStyle(el);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    background: v("--dynbatch-canvas-background", "#fff"),
    nodeBackground: v("--dynbatch-node-background", "#fff"),
    text: v("--dynbatch-text", "#000"),
    textMuted: v("--dynbatch-text-muted", "#555"),
    edge: v("--dynbatch-edge", "#999"),
    selected: v("--dynbatch-selected", "#1976d2"),
    match: v("--dynbatch-match", "#f57c00"),
    changed: v("--dynbatch-changed", "#8e24aa"),
    verdict: {
      supported: v("--dynbatch-supported", "#388e3c"),
      unsupported: v("--dynbatch-unsupported", "#d32f2f"),
      constant: v("--dynbatch-constant", "#9e9e9e"),
    },
    uiFont: v("--jp-ui-font-family", "sans-serif"),
    codeFont: v("--jp-code-font-family", "monospace"),
  };
}
