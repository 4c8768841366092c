/**
 * plotly.js, loaded on first use: it is megabytes of script, and a JupyterLab page that never
 * shows a latency report should not parse it (in the labextension it is a chunk of its own,
 * fetched on the first render). Also the charts' plotly config.
 */
import type { Config } from "plotly.js-dist-min";

export type PlotlyApi = typeof import("plotly.js-dist-min").default;

let loading: Promise<PlotlyApi> | undefined;

export function loadPlotly(): Promise<PlotlyApi> {
  loading ??= import("plotly.js-dist-min").then(
    (m) => m.default,
    (error: unknown) => {
      // A chunk that failed to load (a network blip) is fetched again on the next draw.
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

export const CONFIG: Partial<Config> = {
  displaylogo: false,
  responsive: false,
  displayModeBar: "hover",
  // Few buttons, so that the bar fits beside the chart title: dragging zooms, a double click resets.
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "zoomIn2d", "zoomOut2d"],
};
