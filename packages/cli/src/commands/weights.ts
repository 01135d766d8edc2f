/**
 * spine-cli weights: pretrained weights. `fetch NAME` downloads torchvision's ImageNet DenseNet or
 * ResNet checkpoint into the cache (resumable, SHA-256 checked, stored as safetensors), `import FILE`
 * converts any PyTorch checkpoint to safetensors, `inspect FILE` lists what a weights file holds,
 * `list` shows the registry and what is cached. The work is in @spine/models' weights module.
 */
import { resolve } from 'node:path';
import { UsageError } from '../ui/errors.js';
import type { CommandContext, Values } from './command.js';
import { weightsFetch, weightsImport, weightsInspect, weightsList } from '../weights/actions.js';

const NAME = 'weights';
const ACTIONS = ['fetch', 'import', 'inspect', 'list'] as const;

export async function run(values: Values, context: CommandContext): Promise<number> {
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
}
