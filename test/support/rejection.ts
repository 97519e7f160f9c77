/**
 * What `promise` was rejected with, for tests that check an error's type and message; fails the test when
 * it settles without an error (a `try … catch` that would otherwise pass silently).
 */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but the promise was fulfilled');
}
