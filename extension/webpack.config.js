// Merged into build-labextension's webpack config. plotly.js-dist-min and elkjs ship minified;
// minifying them again took ~3 of the production build's 3.5 minutes, so their chunks (named
// after their modules) are left as they are.
const TerserPlugin = require("terser-webpack-plugin");

module.exports = {
  optimization: {
    chunkIds: "named",
    minimizer: [new TerserPlugin({ exclude: /plotly|elkjs/ })],
  },
};
