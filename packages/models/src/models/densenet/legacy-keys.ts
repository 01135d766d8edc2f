// torchvision's first DenseNet weight files (densenet121-a639ec97.pth and siblings) name the
// layers inside a dense layer `norm.1`, `conv.2`; the current module tree says `norm1`, `conv2`.
// torchvision's own loader (`_load_state_dict` in models/densenet.py) renames with this regex.
const LEGACY_DENSE_LAYER_KEY =
  /^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:1|2)\.(?:weight|bias|running_mean|running_var))$/;

/** Rename old-style DenseNet keys (`...denselayer3.norm.1.weight` -> `...denselayer3.norm1.weight`), keeping order. */
export function remapLegacyDenseNetKeys<T>(stateDict: ReadonlyMap<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [key, value] of stateDict) {
    const m = LEGACY_DENSE_LAYER_KEY.exec(key);
    out.set(m ? m[1]! + m[2]! : key, value);
  }
  return out;
}
