/** What the latency tests read back from the page: the plotly state (data and layout) of each chart. */
import assert from "node:assert/strict";
import { Page } from "playwright-core";
import type { LatencyMode } from "../../kernel";

export interface TraceMeta {
  mode: LatencyMode;
  device: string;
  metric: "latency" | "throughput";
  band?: true;
}
export interface Trace {
  name: string;
  x: number[];
  y: number[];
  text?: string[];
  meta: TraceMeta;
  visible: boolean;
  /** The marker size: one number, or one per point. */
  markerSize?: number | number[];
}
export interface Chart {
  metric: string;
  traces: Trace[];
  xType: string;
  yType: string;
  shapes: { x0: number; x1: number; label: string }[];
}

/** The plotly state of every chart of the page (the graph div keeps data and layout). */
export function charts(page: Page): Promise<Chart[]> {
  return page.$$eval(".dynbatch-latency-chart", (els) =>
    els.map((el) => {
      type Gd = {
        dataset: { metric: string };
        data: (Trace & { marker?: { size?: number | number[] } })[];
        layout: {
          xaxis: { type: string };
          yaxis: { type: string };
          shapes?: { x0: number; x1: number; label?: { text?: string } }[];
        };
      };
      const gd = el as unknown as Gd;
      return {
        metric: gd.dataset.metric,
        traces: gd.data.map((t) => ({
          name: t.name,
          x: [...t.x],
          y: [...t.y],
          text: t.text && [...t.text],
          meta: { ...t.meta },
          visible: t.visible,
          markerSize: Array.isArray(t.marker?.size) ? [...t.marker.size] : t.marker?.size,
        })),
        xType: gd.layout.xaxis.type,
        yType: gd.layout.yaxis.type,
        shapes: (gd.layout.shapes ?? []).map((s) => ({ x0: s.x0, x1: s.x1, label: s.label?.text ?? "" })),
      };
    }),
  );
}

export function chart(all: Chart[], metric: string): Chart {
  const c = all.find((x) => x.metric === metric);
  assert.ok(c, `a ${metric} chart`);
  return c;
}
