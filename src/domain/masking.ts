/**
 * Masks an ID number for display: the first 4 (region) and last 4 characters stay, the rest becomes "*".
 * '440524188001010014' → '4405**********0014'. Short values keep less so that most of them is hidden.
 * Masking a masked value gives it back unchanged, so every layer may mask again.
 */
export function maskIdNumber(idNumber: string): string {
  const v = idNumber.trim();
  if (v.length <= 4) return '*'.repeat(v.length);
  if (v.length <= 8) return v.slice(0, 1) + '*'.repeat(v.length - 2) + v.slice(-1);
  return v.slice(0, 4) + '*'.repeat(v.length - 8) + v.slice(-4);
}
