/** Errors from @spine/nn modules and optimizers; the message names the key or parameter. */
export class NnError extends Error {
  override name = 'NnError';
}
