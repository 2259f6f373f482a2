/**
 * 32-bit FNV-1a over UTF-16 code units, as 7 base36 chars. Only used to notice
 * that a row changed since it was last seen, so a short hash keeps the
 * snapshot small (it lives in the 500 KB property store).
 */
export function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36).padStart(7, "0");
}
