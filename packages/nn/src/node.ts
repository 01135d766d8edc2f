// @spine/nn/node — everything in @spine/nn plus the parts that need Node's file system
// (streaming safetensors files, reading .pth files from disk).
export * from './index.js';
export * from './serialization/node.js';
