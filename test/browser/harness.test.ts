/**
 * The renderer harness itself: it renders standard outputs through JupyterLab's renderers
 * (standardRendererFactories: text, HTML, markdown, images…; application/json is a separate
 * extension in JupyterLab and not part of them),
 * our MIME types are claimed by our factories, and each render replaces the last one.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Browser } from "playwright-core";
import { launch } from "./chromium";
import { factoryOf, openHarness, OUTPUT_WIDTH, setTheme } from "./harness";

let browser: Browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("harness renders text/plain with JupyterLab's text renderer", async () => {
  const h = await openHarness(browser);
  await h.render("text/plain", "hello from the harness");
  const text = h.page.locator("#output .jp-RenderedText");
  assert.equal(await text.count(), 1);
  assert.match(await text.innerText(), /hello from the harness/);
  assert.deepEqual(h.problems, []);
  await h.page.close();
});

test("harness renders text/html, and a new render replaces the previous output", async () => {
  const h = await openHarness(browser);
  await h.render("text/plain", "first");
  await h.render("text/html", "<p>answer <b>42</b></p>");
  assert.equal(await h.page.locator("#output .jp-RenderedText").count(), 0, "the text output was replaced");
  const html = h.page.locator("#output .jp-RenderedHTMLCommon");
  assert.equal(await html.count(), 1);
  assert.equal(await html.locator("b").innerText(), "42");
  assert.equal(await h.page.locator("#output > *").count(), 1);
  assert.deepEqual(h.problems, []);
  await h.page.close();
});

test("harness: our MIME types are claimed by our factories, standard ones by JupyterLab's", async () => {
  const h = await openHarness(browser);
  assert.equal(await factoryOf(h.page, "application/vnd.dynbatch.topology+json"), "topology");
  assert.equal(await factoryOf(h.page, "application/vnd.dynbatch.latency+json"), "latency");
  assert.equal(await factoryOf(h.page, "text/plain"), "standard");
  assert.equal(await factoryOf(h.page, "application/x-nothing"), null);
  await h.render("application/vnd.dynbatch.latency+json", { model: "m", device: "CPU", limit: 1, points: [] });
  assert.equal(await h.page.locator("#output .dynbatch-latency").count(), 1);
  assert.deepEqual(h.problems, []);
  await h.page.close();
});

test("harness: the output has the fixed width, and the theme sets JupyterLab's variables and body attributes", async () => {
  const h = await openHarness(browser, { theme: "dark" });
  const read = () =>
    h.page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document;
      const style = (
        globalThis as unknown as { getComputedStyle(e: unknown): { getPropertyValue(p: string): string } }
      ).getComputedStyle(doc.body);
      return { light: doc.body.dataset.jpThemeLight, layout0: style.getPropertyValue("--jp-layout-color0").trim() };
    });
  assert.deepEqual(await read(), { light: "false", layout0: "#111" });
  await setTheme(h.page, "light");
  assert.deepEqual(await read(), { light: "true", layout0: "white" });
  const box = await h.page.locator("#output").boundingBox();
  assert.equal(box?.width, OUTPUT_WIDTH);
  assert.deepEqual(h.problems, []);
  await h.page.close();
});
