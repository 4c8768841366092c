/**
 * The topology view on payloads it must refuse (a readable message, never an exception or a blank
 * view), the header's own count of blocking layers, and its ELK worker: blob URL revoked, the
 * main-thread fallback where no Worker can be made or one fails. Each on a fresh harness page.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Browser } from "playwright-core";
import { launch } from "./chromium";
import { broken, SMALL } from "./fixtures";
import { Harness, openHarness } from "./harness";
import { MIME, READY, renderReady, ROOT, stats, LAYOUT_WAIT_MS } from "./topology-page";

let browser: Browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A fresh harness page for the checks that must not share the main page's state (its errors, its ELK engine). */
async function freshPage(): Promise<Harness> {
  return openHarness(browser);
}

/** Renders a malformed payload and expects the view's readable error, not an exception. */
async function expectRejected(payload: unknown, message: RegExp): Promise<void> {
  const p = await freshPage();
  await p.render(MIME, payload);
  await p.page.waitForSelector(`${ROOT}[data-state="error"]`, { timeout: 10_000 });
  assert.match((await p.page.locator(`${ROOT} .dynbatch-error`).textContent()) ?? "", message);
  assert.equal(await p.page.locator(`${ROOT} canvas`).count(), 0, "nothing is drawn");
  assert.deepEqual(p.problems, []);
  await p.page.close();
}

test("topology: a layer without inputs shows a message, not an unhandled rejection", async () => {
  await expectRejected(
    broken((r) => delete r.layers[3].inputs),
    /^Not a dynbatch topology report: layers\[3\]\.inputs is not an array of layer ids\.$/,
  );
});

test("topology: an alternate without layers shows a message, not a JavaScript error", async () => {
  await expectRejected(
    broken((r) => delete (r.alternate as Record<string, unknown>).layers),
    /alternate\.layers is not an array/,
  );
});

test("topology: a null layer shows a message, not a JavaScript error", async () => {
  await expectRejected(
    broken((r) => (r.layers = [null as unknown as Record<string, unknown>])),
    /layers\[0\] is not an object/,
  );
});

test("topology: an unknown verdict shows a message, not a blank view", async () => {
  await expectRejected(
    broken((r) => (r.layers[5].verdict = "maybe")),
    /layers\[5\]\.verdict is "maybe"/,
  );
});

test("topology: an input naming no layer shows a message", async () => {
  await expectRejected(
    broken((r) => (r.layers[7].inputs = [3, 42])),
    /layers\[7\]\.inputs names layer id 42/,
  );
});

test("topology: the header counts the blocking layers itself, whatever the summary says", async () => {
  const p = await freshPage();
  await renderReady(p.page, () =>
    p.render(
      MIME,
      broken((r) => delete r.summary.unsupported),
    ),
  );
  assert.equal(await p.page.locator(".dynbatch-overall").textContent(), "✗ 2 layers block a dynamic batch");
  await renderReady(p.page, () =>
    p.render(
      MIME,
      broken((r) => (r.layers[5].verdict = "supported")),
    ),
  );
  assert.equal(await p.page.locator(".dynbatch-overall").textContent(), "✗ 1 layer blocks a dynamic batch");
  assert.deepEqual(p.problems, []);
  await p.page.close();
});

type StubGlobal = {
  Worker: unknown;
  EventTarget: new () => { dispatchEvent(e: unknown): boolean };
  ErrorEvent: new (type: string, init: { message: string }) => unknown;
  setTimeout(f: () => void, ms: number): void;
  URL: { createObjectURL(b: unknown): string; revokeObjectURL(u: string): void };
  dynbatchUrls?: { created: string[]; revoked: string[] };
  /** The stub worker's layout requests so far, and how to make it fail. */
  dynbatchWorker?: { layouts: number; kill(): void };
};

test("topology: the ELK worker's blob URL is revoked once the worker exists, and layouts run in it", async () => {
  const p = await freshPage();
  // The engine is made on the first layout: instrumenting the URL API before it is enough.
  await p.page.evaluate(() => {
    const g = globalThis as unknown as StubGlobal;
    const urls = { created: [] as string[], revoked: [] as string[] };
    g.dynbatchUrls = urls;
    const { createObjectURL, revokeObjectURL } = g.URL;
    g.URL.createObjectURL = (b) => {
      const u = createObjectURL.call(g.URL, b);
      urls.created.push(u);
      return u;
    };
    g.URL.revokeObjectURL = (u) => {
      urls.revoked.push(u);
      revokeObjectURL.call(g.URL, u);
    };
  });
  await renderReady(p.page, () => p.render(MIME, SMALL));
  assert.equal((await stats(p.page)).engine, "worker");
  const urls = await p.page.evaluate(() => (globalThis as unknown as StubGlobal).dynbatchUrls);
  assert.ok(urls);
  assert.equal(urls.created.length, 1);
  assert.deepEqual(urls.revoked, urls.created);
  assert.deepEqual(p.problems, []);
  await p.page.close();
});

test("topology: where no Worker can be made, ELK runs on the main thread and the view gets ready", async () => {
  const p = await freshPage();
  // As under a Content-Security-Policy without blob: workers: the constructor throws.
  await p.page.evaluate(() => {
    (globalThis as unknown as StubGlobal).Worker = class {
      constructor() {
        throw new Error("Worker blocked by the test");
      }
    };
  });
  await renderReady(p.page, () => p.render(MIME, SMALL));
  const s = await stats(p.page);
  assert.equal(s.engine, "main-thread");
  assert.equal(s.nodes, 4);
  assert.deepEqual(p.problems, []);
  await p.page.close();
});

test("topology: a worker that fails after starting hands every pending layout to one main-thread ELK", async () => {
  const p = await freshPage();
  // A worker whose script never answers: it counts layout requests and reports an error when told.
  await p.page.evaluate(() => {
    const g = globalThis as unknown as StubGlobal;
    g.Worker = class extends g.EventTarget {
      onmessage: unknown = null;
      constructor() {
        super();
        g.dynbatchWorker = {
          layouts: 0,
          kill: () => this.dispatchEvent(new g.ErrorEvent("error", { message: "stub worker died" })),
        };
      }
      postMessage(m: { cmd?: string }): void {
        if (m.cmd === "layout" && g.dynbatchWorker) g.dynbatchWorker.layouts += 1;
      }
      terminate(): void {}
    };
  });
  await p.render(MIME, SMALL);
  // A second layout while the first still waits on the worker, then the failure: both meet it.
  await p.page.check(".dynbatch-constants-toggle input");
  await p.page.waitForFunction(() => (globalThis as unknown as StubGlobal).dynbatchWorker?.layouts === 2);
  await p.page.evaluate(() => (globalThis as unknown as StubGlobal).dynbatchWorker?.kill());
  await p.page.waitForSelector(READY, { timeout: LAYOUT_WAIT_MS });
  const s = await stats(p.page);
  assert.equal(s.engine, "main-thread");
  assert.equal(s.nodes, SMALL.layers.length);
  await p.page.uncheck(".dynbatch-constants-toggle input");
  await p.page.waitForSelector(READY, { timeout: LAYOUT_WAIT_MS });
  assert.equal((await stats(p.page)).nodes, 4);
  assert.deepEqual(p.problems, []);
  await p.page.close();
});
