// Exit 0 when Dawn (npm `webgpu`) finds a WebGPU adapter, 1 otherwise. Used by `npm run setup`.
//   --describe  print the adapter in one line    --verbose  print why it failed
import { create, globals } from 'webgpu';

const args = new Set(process.argv.slice(2));
Object.assign(globalThis, globals);
let gpu = create([]);
try {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    if (args.has('--verbose')) console.error('requestAdapter() returned null: no Vulkan/Metal/D3D12 driver found.');
    process.exitCode = 1;
  } else if (args.has('--describe')) {
    const i = adapter.info;
    console.log([i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') || 'unnamed adapter');
  }
} catch (err) {
  if (args.has('--verbose')) console.error(err);
  process.exitCode = 1;
}
gpu = null; // Dawn keeps Node alive while the instance is referenced.
