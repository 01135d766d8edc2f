// Minimal typing for the part of pako 1.x we use (the package ships no types).
declare module 'pako' {
  export function inflate(data: Uint8Array): Uint8Array;
  const pako: { inflate: typeof inflate };
  export default pako;
}
