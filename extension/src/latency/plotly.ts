/**
 * plotly.js, loaded on first use: it is megabytes of script, and a JupyterLab page that never
 * shows a latency report should not parse it (in the labextension it is a chunk of its own,
 * fetched on the first render).
 */
export type PlotlyApi = typeof import("plotly.js-dist-min").default;

let loading: Promise<PlotlyApi> | undefined;

export function loadPlotly(): Promise<PlotlyApi> {
  loading ??= import("plotly.js-dist-min").then((m) => m.default);
  return loading;
}
