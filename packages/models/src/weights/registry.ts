/**
 * torchvision's ImageNet DenseNet and ResNet checkpoints. The file names end in the first 8 hex
 * digits of the file's SHA-256, which torchvision's own loader (torch.hub's check_hash) compares
 * against the download; we check the same prefix. The DenseNet files date from 2017: legacy
 * (pre-1.6) torch.save format with the old `norm.1` / `conv.2` key names inside dense layers. The
 * ResNet files carry torchvision's current key names. resnet50 is torchvision's IMAGENET1K_V1
 * (what `pretrained=True` loaded); resnet50-v2 its IMAGENET1K_V2 (the newer training recipe, the
 * same network).
 */
export interface PretrainedWeights {
  /** Our name for the weights, as `spine-cli weights fetch NAME` takes it. */
  name: string;
  /** The architecture they fit (a @spine/models builder name). */
  arch: 'densenet121' | 'densenet169' | 'densenet201' | 'resnet18' | 'resnet34' | 'resnet50';
  url: string;
  /** The file name part after the last '-': a prefix of the file's SHA-256, lower-case hex. */
  sha256Prefix: string;
  /** Trainable parameters of the converted state dict (BatchNorm running stats not counted). */
  parameterCount: number;
  dataset: 'ImageNet-1k';
}

const BASE = 'https://download.pytorch.org/models';

function entry(
  arch: PretrainedWeights['arch'],
  hash: string,
  parameterCount: number,
  name: string = arch,
): PretrainedWeights {
  return { name, arch, url: `${BASE}/${arch}-${hash}.pth`, sha256Prefix: hash, parameterCount, dataset: 'ImageNet-1k' };
}

/** Parameter counts as torchvision documents them (torchvision.models weights tables). */
export const PRETRAINED_WEIGHTS: readonly PretrainedWeights[] = [
  entry('densenet121', 'a639ec97', 7_978_856),
  entry('densenet169', 'b2777c0a', 14_149_480),
  entry('densenet201', 'c1103571', 20_013_928),
  entry('resnet18', 'f37072fd', 11_689_512),
  entry('resnet34', 'b627a593', 21_797_672),
  entry('resnet50', '0676ba61', 25_557_032),
  entry('resnet50', '11ad3fa6', 25_557_032, 'resnet50-v2'),
];

export const PRETRAINED_NAMES: readonly string[] = PRETRAINED_WEIGHTS.map((w) => w.name);

export function findPretrained(name: string): PretrainedWeights | undefined {
  return PRETRAINED_WEIGHTS.find((w) => w.name === name);
}

/** The file name a URL ends with (`densenet121-a639ec97.pth`). */
export function urlFileName(url: string): string {
  const path = new URL(url).pathname;
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || 'weights.pth';
}
