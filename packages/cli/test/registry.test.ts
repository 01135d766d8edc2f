// --help and flag parsing never load a command's module, so a module that fails to link or
// evaluate (a name missing from a package's built entry, a throwing top-level statement) or that
// lacks `run` would surface only when someone runs that command; this loads each one.
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/registry.js';

describe('command registry', () => {
  it('names each command once', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s loads a module that exports run', async (_name, command) => {
    const module = await command.load();
    expect(typeof module.run).toBe('function');
  });
});
