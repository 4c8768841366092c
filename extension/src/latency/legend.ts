/**
 * The legend shared by both charts: one button per series (mode color, device dash) that shows
 * or hides the series in both charts at once, and the chart toggles. Plain DOM with
 * textContent, so names are never parsed as markup.
 */
import { Series, Sweep } from "./sweeps";
import { seriesName } from "./hover";

const SVG = "http://www.w3.org/2000/svg";

/** SVG stroke-dasharray for plotly's dash names. */
const DASH_ARRAYS: Record<Sweep["dash"], string> = {
  solid: "",
  dash: "6 3",
  dot: "2 3",
  dashdot: "6 3 2 3",
  longdash: "10 4",
  longdashdot: "10 4 2 4",
};

/** A short line in the series' style; its color is the mode's CSS variable, so it follows the theme. */
function swatch(s: Series): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "dynbatch-latency-swatch");
  svg.setAttribute("width", "28");
  svg.setAttribute("height", "10");
  const line = document.createElementNS(SVG, "line");
  line.setAttribute("x1", "1");
  line.setAttribute("x2", "27");
  line.setAttribute("y1", "5");
  line.setAttribute("y2", "5");
  line.setAttribute("stroke-width", "2.5");
  line.style.stroke = `var(--dynbatch-latency-${s.mode})`;
  const dash = DASH_ARRAYS[s.sweep.dash];
  if (dash) line.setAttribute("stroke-dasharray", dash);
  svg.append(line);
  return svg;
}

export function legend(series: Series[], hidden: ReadonlySet<string>, toggle: (name: string) => void): HTMLElement {
  const box = document.createElement("div");
  box.className = "dynbatch-latency-legend";
  for (const s of series) {
    const name = seriesName(s);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "dynbatch-latency-series";
    button.dataset.mode = s.mode;
    button.dataset.device = s.sweep.report.device;
    button.setAttribute("aria-pressed", String(!hidden.has(name)));
    button.title = "Show or hide this series in both charts";
    const label = document.createElement("span");
    label.textContent = name;
    button.append(swatch(s), label);
    button.addEventListener("click", () => {
      toggle(name);
      button.setAttribute("aria-pressed", String(!hidden.has(name)));
    });
    box.append(button);
  }
  return box;
}

/** A toggle button (aria-pressed shows its state): the log axes and the min–max bands. */
export function toggleButton(opts: {
  className: string;
  label: string;
  title: string;
  isOn: () => boolean;
  toggle: () => void;
}): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `dynbatch-latency-toggle ${opts.className}`;
  button.textContent = opts.label;
  button.title = opts.title;
  const sync = () => button.setAttribute("aria-pressed", String(opts.isOn()));
  sync();
  button.addEventListener("click", () => {
    opts.toggle();
    sync();
  });
  return button;
}
