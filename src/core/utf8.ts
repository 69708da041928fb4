/**
 * UTF-8 conversions of BYTES elements, remembered on the element. Inside inferd a BYTES tensor is
 * `Uint8Array[]`, while JSON carries strings and ONNX Runtime's string tensors take strings: one
 * JSON request to a text model would transcode each element four times (string → bytes to decode
 * the request, bytes → string for the runtime, and back for its string outputs). With the text
 * kept beside the bytes, each direction is done once.
 *
 * Contract: BYTES elements are not mutated after they are made (inferd never writes into one); a
 * view made with subarray() is a new element and is decoded afresh.
 */
const TEXT = Symbol('inferd.utf8Text');
type Element = Uint8Array & { [TEXT]?: string };

const encoder = new TextEncoder();
/** Invalid sequences become U+FFFD rather than failing: BYTES may hold any bytes. */
const decoder = new TextDecoder();

export function utf8Bytes(text: string): Uint8Array {
  const bytes = encoder.encode(text) as Element;
  bytes[TEXT] = text;
  return bytes;
}

export function utf8Text(bytes: Uint8Array): string {
  const e = bytes as Element;
  return (e[TEXT] ??= decoder.decode(bytes));
}
