// Adapter facts that @webgpu/types does not declare yet, read defensively.

/** One subgroup-matrix shape the adapter supports (Dawn's `adapter.info.subgroupMatrixConfigs`). */
export interface SubgroupMatrixConfig {
  /** Operand type: 'f32', 'f16', 'u32', 'i32', 'u8' or 'i8'. */
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

/**
 * The subgroup-matrix configurations an adapter reports: Dawn fills them only where the adapter
 * has the 'chromium-experimental-subgroup-matrix' feature (listed with the instance flag
 * allow_unsafe_apis), so elsewhere the list is empty.
 */
export function subgroupMatrixConfigs(info: GPUAdapterInfo): SubgroupMatrixConfig[] {
  const raw = (info as { subgroupMatrixConfigs?: Iterable<Partial<SubgroupMatrixConfig>> }).subgroupMatrixConfigs;
  if (!raw) return [];
  return [...raw].map((c) => ({
    componentType: String(c.componentType),
    resultComponentType: String(c.resultComponentType),
    M: Number(c.M),
    N: Number(c.N),
    K: Number(c.K),
  }));
}
