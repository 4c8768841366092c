/** Plotly renders a subset of HTML in names, titles and hover labels: text from a report goes in only through this function. */
const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  // Numeric: plotly decodes numeric entities but not &quot;.
  '"': "&#34;",
  "'": "&#39;",
};

export function escapePlotly(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
