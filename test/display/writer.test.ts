/**
 * The bundle writers against stand-ins with tslab's shapes: the internal display-data writer (one
 * message per bundle, display ids, updates), the public display.raw fallback (one output per MIME
 * type), stdout outside a notebook, and how the writer is picked from the loaded modules.
 * The real kernel is exercised by test/notebooks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import { display, newDisplay, toMimeBundle, LATENCY_MIME } from "../../kernel";
import type { LatencyReport } from "../../kernel";
import {
  DisplayDataContent,
  plainWriter,
  selectWriter,
  tslabInternalWriter,
  tslabRawWriter,
  TslabJupyterModule,
} from "../../kernel/display/writer";

const report = (points: number): LatencyReport => ({
  model: "m",
  device: "CPU",
  limit: 4,
  points: Array.from({ length: points }, (_, i) => ({
    batch: i + 1,
    mode: "dynamic" as const,
    latencyMs: { p50: 1, p90: 1, min: 1, max: 1 },
    throughput: (i + 1) * 1000,
  })),
});

function fakeJupyter() {
  const sent: { content: DisplayDataContent; update: boolean }[] = [];
  const mod: TslabJupyterModule = { lastWriteDisplayData: (content, update) => sent.push({ content, update }) };
  return { mod, sent };
}

function fakeTslab() {
  const calls: { display: number; mime: string; data: unknown }[] = [];
  let displays = 0;
  return {
    calls,
    tslab: {
      newDisplay() {
        const id = displays++;
        return { raw: (mime: string, data: string | Uint8Array) => calls.push({ display: id, mime, data }) };
      },
    },
  };
}

test("internal writer: the whole bundle in one display_data message, no display id", () => {
  const { mod, sent } = fakeJupyter();
  display(report(2), tslabInternalWriter(mod));
  assert.equal(sent.length, 1);
  assert.equal(sent[0].update, false);
  assert.deepEqual(sent[0].content, { data: toMimeBundle(report(2)), metadata: {}, transient: {} });
});

test("internal writer reads tslab's writer at each call (tslab replaces it per execution)", () => {
  const { mod, sent } = fakeJupyter();
  const write = tslabInternalWriter(mod);
  write(toMimeBundle(report(1)));
  const later: unknown[] = [];
  mod.lastWriteDisplayData = (c) => later.push(c);
  write(toMimeBundle(report(1)));
  assert.equal(sent.length, 1);
  assert.equal(later.length, 1);
  mod.lastWriteDisplayData = null;
  assert.throws(() => write(toMimeBundle(report(1))), /no cell executing/);
});

test("a live display creates one output and then updates it in place", () => {
  const { mod, sent } = fakeJupyter();
  const live = newDisplay(tslabInternalWriter(mod));
  for (let n = 0; n <= 3; n++) live.update(report(n));
  assert.deepEqual(
    sent.map((s) => [s.update, s.content.transient.display_id]),
    [
      [false, live.id],
      [true, live.id],
      [true, live.id],
      [true, live.id],
    ],
  );
  assert.equal((sent[3].content.data[LATENCY_MIME] as LatencyReport).points.length, 3);
  assert.match(live.id, /^[0-9a-f]{16}$/);
  assert.notEqual(newDisplay().id, live.id);
});

test("raw fallback: one output per MIME type, text/plain left out beside HTML; updates reuse the outputs", () => {
  const { tslab, calls } = fakeTslab();
  const write = tslabRawWriter(tslab);
  const bundle = toMimeBundle(report(2));
  write(bundle);
  assert.deepEqual(
    calls.map((c) => [c.display, c.mime]),
    [
      [0, LATENCY_MIME],
      [1, "text/html"],
    ],
  );
  assert.deepEqual(calls[0].data, bundle[LATENCY_MIME]);
  calls.length = 0;
  write(bundle, "abc", false);
  write(bundle, "abc", true);
  write(bundle, "other", false);
  assert.deepEqual(
    calls.map((c) => c.display),
    [2, 3, 2, 3, 4, 5],
  );
});

test("raw fallback keeps text/plain when it is the only part", () => {
  const { tslab, calls } = fakeTslab();
  tslabRawWriter(tslab)({ "text/plain": "x", "text/html": "" } as never);
  tslabRawWriter(tslab)({ "text/plain": "only" } as never);
  assert.deepEqual(
    calls.map((c) => c.mime),
    ["text/html", "text/plain"],
  );
});

test("plain writer prints the text part", () => {
  const printed: string[] = [];
  display(
    report(1),
    plainWriter((t) => printed.push(t)),
  );
  assert.deepEqual(printed, [toMimeBundle(report(1))["text/plain"]]);
});

test("selectWriter: tslab's jupyter module with a writer → internal; without → its public module; none → stdout", () => {
  const dir = path.join("/x", "node_modules", "tslab", "dist");
  const { mod, sent } = fakeJupyter();
  const w1 = selectWriter({ "/x/other.js": { exports: {} }, [path.join(dir, "jupyter.js")]: { exports: mod } }, () => {
    throw new Error("must not load");
  });
  w1(toMimeBundle(report(1)));
  assert.equal(sent.length, 1);

  const { tslab, calls } = fakeTslab();
  const loaded: string[] = [];
  const w2 = selectWriter({ [path.join(dir, "jupyter.js")]: { exports: { lastWriteDisplayData: null } } }, (id) => {
    loaded.push(id);
    return tslab;
  });
  w2(toMimeBundle(report(1)));
  assert.deepEqual(loaded, [path.join(dir, "public.js")]);
  assert.equal(calls.length, 2);

  const printed: string[] = [];
  const orig = process.stdout.write;
  process.stdout.write = ((s: string) => printed.push(s) > 0) as unknown as typeof process.stdout.write;
  try {
    selectWriter({ "/x/node_modules/foo/index.js": { exports: {} } })(toMimeBundle(report(1)));
  } finally {
    process.stdout.write = orig;
  }
  assert.deepEqual(printed, [`${toMimeBundle(report(1))["text/plain"]}\n`]);
});
