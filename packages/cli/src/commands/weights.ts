/**
 * spine-cli weights: pretrained weights. `fetch NAME` downloads torchvision's ImageNet DenseNet or
 * ResNet checkpoint into the cache (resumable, SHA-256 checked, stored as safetensors), `import FILE`
 * converts any PyTorch checkpoint to safetensors, `inspect FILE` lists what a weights file holds,
 * `list` shows the registry and what is cached. The work is in @spine/models' weights module.
 */
import { resolve } from 'node:path';
import { UsageError } from '../ui/errors.js';
import type { Command } from './command.js';
import { weightsFetch, weightsImport, weightsInspect, weightsList } from './weights-actions.js';

const NAME = 'weights';
const ACTIONS = ['fetch', 'import', 'inspect', 'list'] as const;

export const weightsCommand: Command = {
  name: NAME,
  summary:
    "Pretrained weights: fetch torchvision's ImageNet DenseNets and ResNets, import .pth files, inspect weight files.",
  usage: [
    'weights fetch NAME [--cache-dir DIR] [--url URL]',
    'weights import FILE.pth [--out FILE.safetensors] [--force]',
    'weights inspect FILE [--json]',
    'weights list [--cache-dir DIR]',
  ].join('\n       spine-cli '),
  positionals: 'ACTION [NAME|FILE]',
  description: [
    'NAME is densenet121, densenet169, densenet201, resnet18, resnet34, resnet50 or resnet50-v2 (ImageNet-1k).',
    "fetch downloads torchvision's checkpoint (https://download.pytorch.org/models/<name>-<hash>.pth) with",
    'progress on stderr, into CACHE/weights/<name>-<hash>.pth.part; a cut-off download is resumed by the next',
    'run (HTTP Range). The SHA-256 must start with the <hash> in the file name, as torchvision checks it; a',
    'file that fails is deleted. It is then converted to CACHE/weights/<name>-<hash>.safetensors (legacy key',
    'names renamed, written to a temp file and renamed) and the download is deleted: training reads only the',
    'safetensors file, which needs no unpickler. Offline, put the .pth downloaded by hand at',
    'CACHE/weights/<name>-<hash>.pth and run fetch again: it is checked and converted without the network.',
    'CACHE is --cache-dir, else $SPINE_CLI_CACHE_DIR, else $XDG_CACHE_HOME/spine-cli, else ~/.cache/spine-cli.',
    '',
    'import reads a torch.save file (zip or legacy format; a state dict, or one under "state_dict") through',
    'an allow-list unpickler that refuses any other Python object without running it, renames legacy',
    'DenseNet keys (norm.1 -> norm1), and writes safetensors (F32 floats, I64 counters). No hash is checked.',
    'inspect lists keys, dtypes, shapes and the parameter count (BatchNorm running statistics apart) of a',
    '.pth or .safetensors file; --json prints { path, format, metadata, tensors: [{ key, dtype, shape,',
    'numel }], parameterCount, bufferCount, renamedKeys }.',
  ].join('\n'),
  options: {
    'cache-dir': {
      type: 'string',
      value: 'DIR',
      description: 'Weights cache (fetch, list).',
      defaultText: '$SPINE_CLI_CACHE_DIR, $XDG_CACHE_HOME/spine-cli or ~/.cache/spine-cli',
    },
    url: {
      type: 'string',
      value: 'URL',
      description: 'Download from a mirror instead of download.pytorch.org (fetch; the hash check is the same).',
    },
    out: {
      type: 'string',
      value: 'FILE',
      description: 'Where import writes the safetensors file.',
      defaultText: 'FILE with .safetensors',
    },
    force: { type: 'boolean', description: 'Let import replace an existing --out file.' },
    json: { type: 'boolean', description: 'inspect, list: print JSON on stdout.' },
  },
  examples: [
    'spine-cli weights fetch densenet121',
    'spine-cli weights import ~/Downloads/densenet121-a639ec97.pth --out densenet121.safetensors',
    'spine-cli weights inspect densenet121.safetensors',
    'spine-cli weights list',
  ],
  async run(values, context) {
    const [action, target, ...extra] = context.positionals;
    if (!(ACTIONS as readonly string[]).includes(action!))
      throw new UsageError(`the first argument must be one of ${ACTIONS.join(', ')}, got '${action}'`, NAME);
    const needsTarget = action !== 'list';
    if (needsTarget && target === undefined)
      throw new UsageError(
        `weights ${action} needs ${action === 'fetch' ? 'a NAME (densenet121, densenet169, densenet201, resnet18, resnet34, resnet50 or resnet50-v2)' : 'a FILE'}`,
        NAME,
      );
    if ((needsTarget ? extra.length : target !== undefined ? 1 : 0) > 0)
      throw new UsageError(`unexpected argument '${needsTarget ? extra[0] : target}'`, NAME);
    const flags = (allowed: string[]) => {
      const given = Object.keys(values).filter((k) => values[k] !== undefined && k !== 'help' && !allowed.includes(k));
      if (given.length) throw new UsageError(`weights ${action} does not take --${given.join(', --')}`, NAME);
    };
    const cacheDir = values['cache-dir'] as string | undefined;
    switch (action) {
      case 'fetch':
        flags(['cache-dir', 'url']);
        return weightsFetch(target!, {
          ...(cacheDir ? { cacheDir } : {}),
          ...(values.url ? { url: values.url as string } : {}),
        });
      case 'import':
        flags(['out', 'force']);
        return weightsImport(resolve(target!), {
          ...(values.out ? { out: resolve(values.out as string) } : {}),
          force: values.force === true,
        });
      case 'inspect':
        flags(['json']);
        return weightsInspect(resolve(target!), values.json === true);
      default:
        flags(['cache-dir', 'json']);
        return weightsList({ ...(cacheDir ? { cacheDir } : {}), json: values.json === true });
    }
  },
};
