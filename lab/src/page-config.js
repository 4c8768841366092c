/**
 * Reads the page config the server writes into index.html. bootstrap.js runs before any
 * JupyterLab package may load (the shared scope is not ready yet), so it cannot use
 * @jupyterlab/coreutils' PageConfig and reads the same script tag itself.
 */
let config = null;

/** The page config value `name` (undefined when absent). */
export function getOption(name) {
  if (config === null) {
    const el = document.getElementById("jupyter-config-data");
    config = el ? JSON.parse(el.textContent || "{}") : {};
  }
  return config[name];
}
