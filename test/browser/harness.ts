/**
 * The fast renderer harness: our renderer factories on a plain page with JupyterLab's
 * RenderMimeRegistry (no server, no kernel), for the views' own browser tests. The page
 * (test/browser/harness/page.ts) is bundled with esbuild once per process into .cache/harness/
 * and rebuilt only when one of its inputs changed; it is opened from file://, so nothing
 * leaves the machine.
 */
import * as esbuild from "esbuild";
import * as fs from "fs";
import * as path from "path";
import { Browser, Page } from "playwright-core";
import { ROOT } from "../helpers/models";
import { watchProblems } from "./chromium";
import type { HarnessApi, HarnessTheme } from "./harness/api";

export const HARNESS_DIR = path.join(ROOT, ".cache", "harness");
const ENTRY = path.join(ROOT, "test", "browser", "harness", "page.ts");
const BUNDLE = path.join(HARNESS_DIR, "page.js");
const META = path.join(HARNESS_DIR, "meta.json");

/** The output container's size: about a notebook output area's width. */
export const OUTPUT_WIDTH = 900;
export const OUTPUT_HEIGHT = 600;

export interface Harness {
  page: Page;
  /** Uncaught errors and console errors of the page so far (see watchProblems). */
  problems: string[];
  /** Renders `{ [mime]: data }` with the registry's preferred renderer, replacing the previous output. */
  render(mime: string, data: unknown): Promise<void>;
}

/**
 * True when the last bundle exists and nothing it came from is newer (or gone): the inputs
 * esbuild recorded, the theme files copied beside it, and this module (it writes the HTML).
 */
function upToDate(): boolean {
  if (!fs.existsSync(BUNDLE) || !fs.existsSync(META)) return false;
  const built = fs.statSync(BUNDLE).mtimeMs;
  const meta = JSON.parse(fs.readFileSync(META, "utf8")) as esbuild.Metafile;
  const sources = [
    // "(disabled):fs" and the like are node built-ins the browser build left out, not files.
    ...Object.keys(meta.inputs)
      .filter((input) => !input.startsWith("(disabled):"))
      // A plugin's input is "namespace:/absolute/path".
      .map((input) => path.resolve(ROOT, input.replace(/^[\w-]+:(?=\/)/, ""))),
    themeVariables("light"),
    themeVariables("dark"),
    __filename,
  ];
  return sources.every((file) => fs.existsSync(file) && fs.statSync(file).mtimeMs <= built);
}

function themeVariables(theme: HarnessTheme): string {
  return path.join(ROOT, "node_modules", "@jupyterlab", `theme-${theme}-extension`, "style", "variables.css");
}

/** The page's HTML: the chosen theme's variables, the bundle's CSS and JS, one fixed-size output. */
function html(theme: HarnessTheme): string {
  const light = theme === "light";
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>dynbatch renderer harness</title>
<link id="theme" rel="stylesheet" href="theme-${theme}.css">
<link rel="stylesheet" href="page.css">
<style>
  body { margin: 0; padding: 8px; background: var(--jp-layout-color0); color: var(--jp-ui-font-color1);
         font-family: var(--jp-ui-font-family); font-size: var(--jp-ui-font-size1); }
  #output { width: ${OUTPUT_WIDTH}px; height: ${OUTPUT_HEIGHT}px; overflow: auto; position: relative; }
</style></head>
<body data-jp-theme-light="${light}" data-jp-theme-name="JupyterLab ${light ? "Light" : "Dark"}">
<div id="output"></div>
<script src="page.js"></script>
</body></html>
`;
}

/**
 * webpack's inline `!!raw-loader!module/file.js` (the extension imports a worker script as
 * text that way, for build-labextension): esbuild resolves the path after the last "!" and
 * loads the file as a string, which is what raw-loader's default export is.
 */
const rawLoader: esbuild.Plugin = {
  name: "raw-loader",
  setup(build) {
    build.onResolve({ filter: /^!.*raw-loader!/ }, async (args) => {
      const target = args.path.slice(args.path.lastIndexOf("!") + 1);
      const resolved = await build.resolve(target, { kind: args.kind, resolveDir: args.resolveDir });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, namespace: "raw-loader" };
    });
    build.onLoad({ filter: /.*/, namespace: "raw-loader" }, (args) => ({
      contents: fs.readFileSync(args.path, "utf8"),
      loader: "text",
    }));
  },
};

/**
 * Bundles into a private folder, then renames into place, so that two test processes building
 * at once never leave a half-written bundle for each other.
 */
async function build(): Promise<void> {
  const tmp = path.join(HARNESS_DIR, `build-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    await buildInto(tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function buildInto(tmp: string): Promise<void> {
  const result = await esbuild.build({
    entryPoints: { page: ENTRY },
    bundle: true,
    outdir: tmp,
    absWorkingDir: ROOT,
    format: "iife",
    platform: "browser",
    target: "es2020",
    metafile: true,
    logLevel: "error",
    define: { "process.env.NODE_ENV": '"production"' },
    plugins: [rawLoader],
    loader: { ".svg": "dataurl", ".woff": "dataurl", ".woff2": "dataurl", ".ttf": "dataurl", ".png": "dataurl" },
  });
  fs.writeFileSync(path.join(tmp, "meta.json"), JSON.stringify(result.metafile));
  for (const theme of ["light", "dark"] as const) {
    fs.copyFileSync(themeVariables(theme), path.join(tmp, `theme-${theme}.css`));
    fs.writeFileSync(path.join(tmp, `harness-${theme}.html`), html(theme));
  }
  // meta.json last: upToDate() trusts the bundle only once its metafile is in place.
  const names = fs.readdirSync(tmp).filter((n) => n !== "meta.json");
  for (const name of [...names, "meta.json"]) fs.renameSync(path.join(tmp, name), path.join(HARNESS_DIR, name));
}

let ready: Promise<void> | undefined;

/** Builds the page once per process, and only when its sources changed since the cached build. */
export function ensureHarnessBuilt(): Promise<void> {
  ready ??= (async () => {
    fs.mkdirSync(HARNESS_DIR, { recursive: true });
    if (!upToDate()) await build();
  })();
  return ready;
}

/** The page's API, as the node side sees it: the page has DOM types, the tests do not. */
type HarnessGlobal = { dynbatchHarness: HarnessApi };

/** Opens the harness page in a new page of `browser`, watching it for problems from the start. */
export async function openHarness(browser: Browser, opts: { theme?: HarnessTheme } = {}): Promise<Harness> {
  await ensureHarnessBuilt();
  const page = await browser.newPage({ viewport: { width: OUTPUT_WIDTH + 40, height: OUTPUT_HEIGHT + 40 } });
  const problems = watchProblems(page);
  const file = path.join(HARNESS_DIR, `harness-${opts.theme ?? "light"}.html`);
  await page.goto(`file://${file}`);
  await page.waitForFunction(() => (globalThis as unknown as Partial<HarnessGlobal>).dynbatchHarness !== undefined);
  return {
    page,
    problems,
    render: (mime, data) =>
      page.evaluate(([m, d]) => (globalThis as unknown as HarnessGlobal).dynbatchHarness.render(m, d), [mime, data] as const),
  };
}

/** Which factory of the page's registry claims `mime` (see HarnessApi.factoryOf). */
export function factoryOf(page: Page, mime: string): Promise<ReturnType<HarnessApi["factoryOf"]>> {
  return page.evaluate((m) => (globalThis as unknown as HarnessGlobal).dynbatchHarness.factoryOf(m), mime);
}

/** Switches the open page's theme the way JupyterLab's theme manager does. */
export function setTheme(page: Page, theme: HarnessTheme): Promise<void> {
  return page.evaluate((t) => (globalThis as unknown as HarnessGlobal).dynbatchHarness.setTheme(t), theme);
}
