/** The MIME bundle every display produces: a JSON payload where one is defined, plus HTML and text fallbacks. */

/** MIME type of a `TopologyReport` payload (rendered as an interactive graph by the JupyterLab extension). */
export const TOPOLOGY_MIME = "application/vnd.dynbatch.topology+json";
/** MIME type of a `LatencyReport` payload (rendered as charts by the JupyterLab extension). */
export const LATENCY_MIME = "application/vnd.dynbatch.latency+json";
/** MIME type of a `ProfileReport` payload (per-layer times on the graph in the JupyterLab extension). */
export const PROFILE_MIME = "application/vnd.dynbatch.profile+json";

/**
 * One Jupyter display_data `data` object. `text/html` is static and self-contained (inline styles
 * and SVG, no script) so that it reads the same in classic Notebook, JupyterLab and on a code host.
 */
export interface MimeBundle {
  "text/plain": string;
  "text/html": string;
  [mime: string]: unknown;
}

/** MIME type of a `BatchFixChange[]` payload (fixForDynamicBatch's changes; the HTML fallback is the view for now). */
export const BATCH_FIX_MIME = "application/vnd.dynbatch.batch-fix+json";

/** MIME type of a `FrontierReport` payload (throughput against p99 per batching policy, plotly in the JupyterLab extension). */
export const FRONTIER_MIME = "application/vnd.dynbatch.frontier+json";
