/** Plotly renders a subset of HTML in names, titles and hover labels: text from a report goes in only through this function. */
const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  // Numeric: plotly decodes numeric entities but not &quot;.
  '"': "&#34;",
  "'": "&#39;",
  // Plotly fills "%{...}" templates in names from the trace's meta, which holds the raw device:
  // an escaped "%" never starts a template, and plotly still draws it as "%".
  "%": "&#37;",
};

export function escapePlotly(text: string): string {
  return text.replace(/[&<>"'%]/g, (c) => ENTITIES[c]);
}
