/**
 * Sends a MIME bundle to the notebook. tslab's public `display.raw` sends one MIME type per
 * output, so a bundle (JSON + HTML + text in one output, the frontend picks the richest) goes
 * through tslab's internal display-data writer; `display.raw` is the fallback should those
 * internals change, and outside a notebook the text/plain part is printed.
 */
import * as path from "path";
import { MimeBundle } from "./bundle";

/** Writes one bundle; with a display id, `update` replaces that display in place (update_display_data). */
export type DisplayWriter = (bundle: MimeBundle, displayId?: string, update?: boolean) => void;

/** The content of a Jupyter display_data / update_display_data message. */
export interface DisplayDataContent {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

/** The part of tslab's `dist/jupyter` module used here (tslab 1.0.x). */
export interface TslabJupyterModule {
  lastWriteDisplayData: ((content: DisplayDataContent, update: boolean) => void) | null;
}

/** The part of tslab's public module used here. */
export interface TslabPublicModule {
  newDisplay(): { raw(contentType: string, data: string | Uint8Array): unknown };
}

/**
 * tslab's internal writer. It is read at each call because tslab replaces it for every
 * execution (it carries the executing cell's message header).
 */
export function tslabInternalWriter(jupyter: TslabJupyterModule): DisplayWriter {
  return (bundle, displayId, update = false) => {
    const write = jupyter.lastWriteDisplayData;
    if (!write) throw new Error("tslab has no cell executing");
    write({ data: bundle, metadata: {}, transient: displayId ? { display_id: displayId } : {} }, update);
  };
}

/**
 * tslab's public API: one output per MIME type. text/plain is left out when there is HTML, which
 * would otherwise show the same content twice. Each of our display ids maps to one tslab display
 * per MIME type, so updates replace the matching outputs.
 */
export function tslabRawWriter(tslab: TslabPublicModule): DisplayWriter {
  const displays = new Map<string, Map<string, ReturnType<TslabPublicModule["newDisplay"]>>>();
  return (bundle, displayId) => {
    const mimes = Object.keys(bundle).filter((m) => m !== "text/plain" || !("text/html" in bundle));
    let byMime = displayId ? displays.get(displayId) : undefined;
    if (!byMime) {
      byMime = new Map(mimes.map((m) => [m, tslab.newDisplay()]));
      if (displayId) displays.set(displayId, byMime);
    }
    for (const m of mimes) {
      // raw() passes a non-string payload through untouched; Jupyter stores it as JSON.
      byMime.get(m)!.raw(m, bundle[m] as string);
    }
  };
}

/** Outside a notebook: the text/plain part, once per write. */
export function plainWriter(print: (text: string) => void = (t) => process.stdout.write(`${t}\n`)): DisplayWriter {
  return (bundle) => print(bundle["text/plain"]);
}

const JUPYTER_MODULE = path.join("tslab", "dist", "jupyter.js");

/**
 * Picks the writer for this process by looking for tslab's jupyter module among the loaded
 * modules: that copy is the one the running kernel writes with, whichever node_modules it is in.
 */
export function selectWriter(
  cache: Record<string, { exports: unknown } | undefined> = require.cache,
  load: (id: string) => unknown = require,
): DisplayWriter {
  for (const [file, mod] of Object.entries(cache)) {
    if (!file.endsWith(JUPYTER_MODULE) || !mod) continue;
    const jupyter = mod.exports as Partial<TslabJupyterModule>;
    if (typeof jupyter.lastWriteDisplayData === "function") return tslabInternalWriter(jupyter as TslabJupyterModule);
    return tslabRawWriter(load(path.join(path.dirname(file), "public.js")) as TslabPublicModule);
  }
  return plainWriter();
}
