// Langfuse media references in inputs and outputs
// (`@@@langfuseMedia:type=image/png|id=…|source=…@@@`), found anywhere in a value.

export interface MediaRef {
  id: string;
  type: string;
  source: string;
}

const PATTERN = /@@@langfuseMedia:([^@]*)@@@/g;
const INLINE = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

export function parseRefs(text: string): MediaRef[] {
  const refs: MediaRef[] = [];
  for (const match of text.matchAll(PATTERN)) {
    const fields = new Map(
      match[1].split("|").map((pair) => {
        const at = pair.indexOf("=");
        return [pair.slice(0, at), pair.slice(at + 1)] as [string, string];
      }),
    );
    const id = fields.get("id");
    if (id && /^[A-Za-z0-9_-]+$/.test(id)) refs.push({ id, type: fields.get("type") ?? "", source: fields.get("source") ?? "" });
  }
  return refs;
}

/** Every media reference in a value's strings, each id once, bounded. */
export function collectMedia(value: unknown, limit = 50): MediaRef[] {
  const found = new Map<string, MediaRef>();
  const stack: unknown[] = [value];
  while (stack.length > 0 && found.size < limit) {
    const item = stack.pop();
    if (typeof item === "string") {
      if (item.includes("@@@langfuseMedia:")) for (const ref of parseRefs(item)) found.set(ref.id, ref);
    } else if (Array.isArray(item)) {
      stack.push(...item);
    } else if (item && typeof item === "object") {
      stack.push(...Object.values(item));
    }
  }
  return [...found.values()];
}

/** Whether the app shows this media type as an image (never SVG). */
export function isInlineImage(ref: MediaRef): boolean {
  return INLINE.has(ref.type.toLowerCase());
}
