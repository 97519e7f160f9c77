/**
 * The error `fn` threw, when it is an instance of `type`; fails the test when `fn` returns, and rethrows
 * any other error (a `try … catch` that would otherwise pass silently, or swallow the wrong error).
 */
export function thrown<E extends Error>(type: abstract new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}, but nothing was thrown`);
}
