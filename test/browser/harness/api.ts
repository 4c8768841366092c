/**
 * What the harness page exposes as `window.dynbatchHarness`. Types only: the node side
 * (test/browser/harness.ts) imports them too, so both ends agree.
 */

export type HarnessTheme = "light" | "dark";

export interface HarnessApi {
  /** Renders a one-MIME-type bundle with the registry's preferred renderer, replacing the previous output. */
  render(mime: string, data: unknown): Promise<void>;
  /** Which factory claims `mime`: one of ours ("topology", "latency", "profile"), a standard one, or none. */
  factoryOf(mime: string): "topology" | "latency" | "profile" | "frontier" | "standard" | null;
  /** Switches the theme's CSS variables and the body attributes JupyterLab sets. */
  setTheme(theme: HarnessTheme): Promise<void>;
}

declare global {
  interface Window {
    dynbatchHarness: HarnessApi;
  }
}
