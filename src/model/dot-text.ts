/** A DOT string literal: quotes, backslashes and newlines escaped (flow and lifecycle diagrams share it). */
export function dotQuote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
