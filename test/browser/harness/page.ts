/**
 * The renderer harness page: a RenderMimeRegistry with JupyterLab's standard renderers and
 * ours, one output container, and `window.dynbatchHarness` for the node side to drive it.
 * Bundled by test/browser/harness.ts with esbuild; the theme's variables.css is linked by
 * the HTML the harness writes, so one bundle serves both themes.
 */
import "@lumino/widgets/style/widget.css";
import "@jupyterlab/rendermime/style/base.css";
import "../../../extension/style/index.css";
import { MimeModel, RenderMimeRegistry, standardRendererFactories } from "@jupyterlab/rendermime";
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";
import { latencyRendererFactory, profileRendererFactory, topologyRendererFactory } from "../../../extension/src/index";
import { frontierRendererFactory } from "../../../extension/src/index";
import type { HarnessApi, HarnessTheme } from "./api";

const registry = new RenderMimeRegistry({
  initialFactories: [
    ...standardRendererFactories,
    topologyRendererFactory,
    latencyRendererFactory,
    profileRendererFactory,
    frontierRendererFactory,
  ],
});

const ours = new Map<IRenderMime.IRendererFactory, "topology" | "latency" | "profile" | "frontier">([
  [topologyRendererFactory, "topology"],
  [latencyRendererFactory, "latency"],
  [profileRendererFactory, "profile"],
  [frontierRendererFactory, "frontier"],
]);

const host = document.getElementById("output");
if (!host) throw new Error("harness page: #output is missing");
let current: Widget | undefined;

/** Sets the attributes JupyterLab's ThemeManager sets, after the theme's variables have loaded. */
async function setTheme(theme: HarnessTheme): Promise<void> {
  const link = document.getElementById("theme") as HTMLLinkElement;
  const href = `theme-${theme}.css`;
  if (!link.href.endsWith(href)) {
    const loaded = new Promise<void>((resolve, reject) => {
      link.onload = () => resolve();
      link.onerror = () => reject(new Error(`harness page: ${href} did not load`));
    });
    link.href = href;
    await loaded;
  }
  document.body.dataset.jpThemeLight = String(theme === "light");
  document.body.dataset.jpThemeName = theme === "light" ? "JupyterLab Light" : "JupyterLab Dark";
}

const api: HarnessApi = {
  async render(mime, data) {
    current?.dispose();
    current = undefined;
    const model = new MimeModel({ data: { [mime]: data as IRenderMime.IMimeModel["data"][string] }, trusted: true });
    const chosen = registry.preferredMimeType(model.data, "any");
    if (!chosen) throw new Error(`harness page: no renderer for ${mime}`);
    const widget = registry.createRenderer(chosen);
    current = widget;
    Widget.attach(widget, host);
    await widget.renderModel(model);
  },
  factoryOf(mime) {
    const factory = registry.getFactory(mime);
    if (!factory) return null;
    return ours.get(factory) ?? "standard";
  },
  setTheme,
};

window.dynbatchHarness = api;
