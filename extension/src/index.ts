/**
 * dynbatch's JupyterLab 4 MIME-renderer extension: one renderer factory per MIME type, each
 * creating a widget whose renderModel draws the report (as @jupyterlab/vega5-extension does).
 */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { FrontierWidget } from "./frontier/widget";
import { LatencyWidget } from "./latency/widget";
import { FRONTIER_MIME, LATENCY_MIME, PROFILE_MIME, TOPOLOGY_MIME } from "./mime";
import { ProfileWidget } from "./profile/widget";
import { TopologyWidget } from "./topology/widget";

export { LATENCY_MIME, PROFILE_MIME, TOPOLOGY_MIME } from "./mime";
export { FRONTIER_MIME } from "./mime";

/** Renders `application/vnd.dynbatch.topology+json` (a TopologyReport) as an interactive graph. */
export const topologyRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [TOPOLOGY_MIME],
  createRenderer: (options) => new TopologyWidget(options),
};

/** Renders `application/vnd.dynbatch.latency+json` (a LatencyReport) as plotly charts. */
export const latencyRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [LATENCY_MIME],
  createRenderer: (options) => new LatencyWidget(options),
};

/** Renders `application/vnd.dynbatch.profile+json` (a ProfileReport) on the network's graph, coloured by time. */
export const profileRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [PROFILE_MIME],
  createRenderer: (options) => new ProfileWidget(options),
};

/** Renders `application/vnd.dynbatch.frontier+json` (a FrontierReport): throughput against p99 per batching policy. */
export const frontierRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [FRONTIER_MIME],
  createRenderer: (options) => new FrontierWidget(options),
};

// rank 0 puts our views ahead of the bundle's text/html fallback.
const extensions: IRenderMime.IExtension[] = [
  {
    id: "dynbatch-jupyterlab:topology",
    rendererFactory: topologyRendererFactory,
    rank: 0,
    dataType: "json",
  },
  {
    id: "dynbatch-jupyterlab:latency",
    rendererFactory: latencyRendererFactory,
    rank: 0,
    dataType: "json",
  },
  {
    id: "dynbatch-jupyterlab:profile",
    rendererFactory: profileRendererFactory,
    rank: 0,
    dataType: "json",
  },
  {
    id: "dynbatch-jupyterlab:frontier",
    rendererFactory: frontierRendererFactory,
    rank: 0,
    dataType: "json",
  },
];

export default extensions;
