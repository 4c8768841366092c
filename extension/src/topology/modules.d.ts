/**
 * A webpack inline-loader request: the file's text as the default export. @jupyterlab/builder's
 * webpack runs raw-loader for it; the esbuild harness needs a plugin that loads it as text.
 */
declare module "!!raw-loader!*" {
  const text: string;
  export default text;
}
