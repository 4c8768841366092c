/**
 * Names from a model as they are shown. A name can be megabytes long (nothing in IR or ONNX
 * limits it), and a view repeats names in tables, tooltips and lists: every shown copy is capped,
 * and the full name stays in the report (the JSON part of a bundle) and in the extension's
 * details panel. Shared by the kernel's HTML/text fallbacks and the JupyterLab extension.
 */

/** The most characters of a name shown in a table, a list or a label. */
export const NAME_MAX = 120;
/** The most characters of a name in a hover tooltip. */
export const TOOLTIP_NAME_MAX = 1000;

/** `name` cut to `max` characters, saying how long it was when cut. */
export function displayName(name: string, max = NAME_MAX): string {
  return name.length > max ? `${name.slice(0, max)}… (${name.length} characters)` : name;
}
