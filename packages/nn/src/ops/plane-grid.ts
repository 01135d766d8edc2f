// Grids whose workgroup row is one "plane" (an (n, c) image plane, a row of logits): the plane
// index comes from workgroup_id, so everything per plane is a uniform load. On llvmpipe that is
// one scalar load instead of a loop over the SIMD lanes (docs/PERFORMANCE.md).

/** Workgroups [blocks of `wg` per plane, planes (folded into z past 65,535)]. */
export function planeGrid(planes: number, perPlane: number, wg = 64): [number, number, number] {
  const x = Math.max(1, Math.ceil(perPlane / wg));
  if (planes <= 65535) return [x, Math.max(planes, 1), 1];
  const z = Math.ceil(planes / 65535);
  return [x, Math.ceil(planes / z), z];
}

/** WGSL: the plane index of a planeGrid dispatch (`wid`, `nwg` builtins in scope). */
export const PLANE_INDEX = 'wid.y + wid.z * nwg.y';
