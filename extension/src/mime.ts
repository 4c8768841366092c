/** The MIME types this extension renders; the kernel's display() emits the same strings (kernel/display/bundle.ts). */
export const TOPOLOGY_MIME = "application/vnd.dynbatch.topology+json";
export const LATENCY_MIME = "application/vnd.dynbatch.latency+json";
export const PROFILE_MIME = "application/vnd.dynbatch.profile+json";
export const FRONTIER_MIME = "application/vnd.dynbatch.frontier+json";
