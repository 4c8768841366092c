/**
 * The application: gathers the plugins of the built-in JupyterLab packages (gen/plugins.js) and
 * of the federated extensions bootstrap.js loaded, honours the page config's disabled and
 * deferred lists, and starts JupyterLab.
 */
import { JupyterLab } from "@jupyterlab/application";
import { PageConfig } from "@jupyterlab/coreutils";
import { IConnectionStatus, IServiceManager } from "@jupyterlab/services";
import { PluginRegistry } from "@lumino/coreutils";
import { extensions, mimeExtensions } from "dynbatch-lab-gen/plugins.js";
import "dynbatch-lab-gen/style.js";

/** The plugins a module exports: an ES module's default export or a CommonJS export, one or many. */
function exportedPlugins(module) {
  const exported = Object.prototype.hasOwnProperty.call(module, "__esModule") ? module.default : module;
  return Array.isArray(exported) ? exported : [exported];
}

/** One module of a federated extension's container (its ./extension, ./mimeExtension or ./style). */
async function federatedModule(scope, module) {
  const factory = await window._JUPYTERLAB[scope].get(module);
  return factory();
}

/** Sorts plugins into enabled ones, recording disabled, deferred and all of them for the app. */
class PluginSorter {
  constructor() {
    this.disabled = [];
    this.deferred = [];
    this.available = [];
  }

  /** The enabled plugins of `module`, which came from package `scope`. */
  enabled(module, scope) {
    const out = [];
    for (const plugin of exportedPlugins(module)) {
      const isDisabled = PageConfig.Extension.isDisabled(plugin.id);
      this.available.push({
        id: plugin.id,
        description: plugin.description,
        requires: plugin.requires ?? [],
        optional: plugin.optional ?? [],
        provides: plugin.provides ?? null,
        autoStart: plugin.autoStart,
        enabled: !isDisabled,
        extension: scope,
      });
      if (isDisabled) {
        this.disabled.push(plugin.id);
        continue;
      }
      if (PageConfig.Extension.isDeferred(plugin.id)) this.deferred.push(plugin.id);
      out.push(plugin);
    }
    return out;
  }
}

/** Loads every module, keeping the enabled plugins; a module that fails is reported, not fatal. */
async function collect(sorter, loaders) {
  const settled = await Promise.allSettled(loaders.map(([, load]) => load()));
  const plugins = [];
  settled.forEach((result, i) => {
    if (result.status === "fulfilled") plugins.push(...sorter.enabled(result.value, loaders[i][0]));
    else console.error(`Plugins of ${loaders[i][0]} failed to load:`, result.reason);
  });
  return plugins;
}

/** Creates each extension's ./style module, which injects its CSS. */
async function loadStyles(styled) {
  const settled = await Promise.allSettled(styled.map((ext) => federatedModule(ext.name, ext.style)));
  settled.forEach((result, i) => {
    if (result.status === "rejected") console.error(`Styles of ${styled[i].name} failed to load:`, result.reason);
  });
}

/** Starts JupyterLab with the built-in plugins and those of the `federated` extensions. */
export async function main(federated) {
  const sorter = new PluginSorter();
  const remote = (kind) =>
    federated.filter((ext) => ext[kind]).map((ext) => [ext.name, () => federatedModule(ext.name, ext[kind])]);

  const mime = await collect(sorter, [...mimeExtensions, ...remote("mimeExtension")]);
  const plugins = await collect(sorter, [...extensions, ...remote("extension")]);
  await loadStyles(federated.filter((ext) => ext.style));

  const pluginRegistry = new PluginRegistry();
  pluginRegistry.registerPlugins(plugins);
  const lab = new JupyterLab({
    pluginRegistry,
    mimeExtensions: mime,
    // Plugins may provide these services; JupyterLab builds the defaults when none does.
    serviceManager: await pluginRegistry.resolveOptionalService(IServiceManager),
    connectionStatus: await pluginRegistry.resolveOptionalService(IConnectionStatus),
    disabled: { matches: sorter.disabled, patterns: PageConfig.Extension.disabled.map((re) => re.raw) },
    deferred: { matches: sorter.deferred, patterns: PageConfig.Extension.deferred.map((re) => re.raw) },
    availablePlugins: sorter.available,
  });
  await lab.start({ ignorePlugins: sorter.deferred, bubblingKeydown: true });
}
