/**
 * What every notebook must be as committed and as run, whatever it teaches: small enough to read
 * on GitHub, outputs that show values (not Node's `[Array]`), and an ending a newcomer can work
 * from (a three-line summary, an exercise with its answer in a collapsed cell, the next notebook).
 */
import * as fs from "fs";
import * as path from "path";
import type { Notebook } from "./nbrun";

/** Largest committed notebook: GitHub and nbviewer render it, and a diff of its outputs stays readable. */
export const MAX_NOTEBOOK_BYTES = 300 * 1024;

function joined(x: unknown): string {
  return Array.isArray(x) ? x.join("") : typeof x === "string" ? x : JSON.stringify(x);
}

/** Every output that Node's inspector abbreviated (`[Array]`, `[Object]`): the value it was meant to show is hidden. */
export function abbreviated(nb: Notebook): string[] {
  return nb.cells.flatMap((c, i) =>
    (c.outputs ?? []).flatMap((o) => {
      const texts = [o.text, ...(o.data ? [o.data["text/plain"], o.data["text/html"]] : [])].map(joined);
      return texts.some((t) => /\[(Array|Object)\]/.test(t)) ? [`cell ${i}`] : [];
    }),
  );
}

/**
 * What is missing from the ending of `nb` (empty when complete): a "## Summary" cell of three
 * bullets, a "Try it yourself" section, an answer cell whose source is collapsed and that printed
 * its answer, and a last cell linking to `next` (a notebook in `dir` or a README section).
 */
export function missingEnding(nb: Notebook, next: string, dir: string): string[] {
  const missing: string[] = [];
  const source = (i: number) => joined(nb.cells[i].source);
  const md = nb.cells.map((c, i) => (c.cell_type === "markdown" ? source(i) : ""));
  const summary = md.find((s) => /^## Summary\b/m.test(s));
  const bullets = summary ? summary.split(/^## /m)[1].split("\n").filter((l) => l.startsWith("- ")).length : 0;
  if (bullets !== 3) missing.push(`a "## Summary" of three bullets (found ${bullets})`);
  if (!md.some((s) => /^## Try it yourself\b/m.test(s))) missing.push('a "## Try it yourself" section');
  const answers = nb.cells.filter(
    (c) => c.cell_type === "code" && (c.metadata?.jupyter as { source_hidden?: boolean } | undefined)?.source_hidden === true,
  );
  if (answers.length === 0) missing.push("an answer cell with its source collapsed (metadata.jupyter.source_hidden)");
  if (answers.some((c) => c.outputs !== undefined && c.outputs.length === 0 && nb.cells.some((x) => (x.outputs ?? []).length > 0)))
    missing.push("the answer's output");
  const last = md[md.length - 1];
  if (!last.includes(`](${next})`)) missing.push(`a last cell linking to ${next}`);
  else if (next.endsWith(".ipynb") && !fs.existsSync(path.join(dir, next))) missing.push(`${next} (linked) in ${dir}`);
  return missing;
}
