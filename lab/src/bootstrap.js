/**
 * Entry point, run before any JupyterLab code: points chunk loading at the server's static URL,
 * loads the remoteEntry of every prebuilt (federated) extension the server lists, lets each join
 * the shared-module scope, and only then imports the application. Loading the remotes first is
 * what lets webpack pick one version of each shared package for everyone (stock JupyterLab's
 * dev_mode/bootstrap.js does the same).
 */
import { getOption } from "./page-config";

// eslint-disable-next-line no-undef
__webpack_public_path__ = `${getOption("fullStaticUrl")}/`;

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.onerror = () => reject(new Error(`cannot load ${url}`));
    script.onload = resolve;
    script.async = true;
    script.src = url;
    document.head.appendChild(script);
  });
}

/** Loads one extension's container and initializes it with the shared scope. */
async function loadRemote(extension) {
  await loadScript(`${getOption("fullLabextensionsUrl")}/${extension.name}/${extension.load}`);
  // eslint-disable-next-line no-undef
  await __webpack_init_sharing__("default");
  // eslint-disable-next-line no-undef
  await window._JUPYTERLAB[extension.name].init(__webpack_share_scopes__.default);
}

/** Resolves once the document has loaded: the application attaches itself to document.body. */
function documentLoaded() {
  if (document.readyState === "complete") return Promise.resolve();
  return new Promise((resolve) => window.addEventListener("load", resolve, { once: true }));
}

async function bootstrap() {
  const listed = getOption("federated_extensions") || [];
  const results = await Promise.allSettled(listed.map(loadRemote));
  const loaded = [];
  results.forEach((result, i) => {
    if (result.status === "fulfilled") loaded.push(listed[i]);
    else console.error(`Extension ${listed[i].name} failed to load:`, result.reason);
  });
  // eslint-disable-next-line no-undef
  await __webpack_init_sharing__("default");
  await documentLoaded();
  const { main } = await import("./index");
  await main(loaded);
}

void bootstrap();
