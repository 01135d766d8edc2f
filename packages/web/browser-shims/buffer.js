// Injected by build.mjs: bare `Buffer` in bundled code (@spine/imaging hands PNG bytes to pngjs
// as a Buffer) becomes the npm `buffer` package, the browser twin of Node's Buffer.
export { Buffer } from 'buffer/'; // the npm package (a trailing slash skips Node's built-in name)
