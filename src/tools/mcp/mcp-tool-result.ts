import type { ContentBlock } from '@modelcontextprotocol/sdk/types.js';

/**
 * What the model reads of a `tools/call` result: the text parts joined by newlines, with a short
 * line for each part a chat model cannot take as a tool result (images, audio, binary resources);
 * the structured content when there is no text at all (a tool with an output schema may send only that).
 */
export function toolResultOutput(result: { readonly content?: readonly ContentBlock[]; readonly structuredContent?: unknown }): unknown {
  const content = result.content ?? [];
  const hasText = content.some((block) => block.type === 'text' || (block.type === 'resource' && 'text' in block.resource));
  if (!hasText && result.structuredContent !== undefined) return result.structuredContent;
  return contentText(content);
}

/** The content blocks as one text (for results and for the message of an `isError` result). */
export function contentText(content: readonly ContentBlock[]): string {
  return content.map(describeBlock).join('\n');
}

function describeBlock(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
    case 'audio':
      return `[${block.type}: ${block.mimeType}, ${base64Bytes(block.data)} bytes]`;
    case 'resource_link':
      return `[resource link: ${block.uri}]`;
    case 'resource': {
      const resource = block.resource;
      if ('text' in resource) return `[resource: ${resource.uri}]\n${resource.text}`;
      return `[resource: ${resource.uri}, ${resource.mimeType ?? 'binary'}, ${base64Bytes(resource.blob)} bytes]`;
    }
    default:
      return `[${(block as { type: string }).type} content]`;
  }
}

function base64Bytes(data: string): number {
  const clean = data.replace(/\s/g, '');
  const padding = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((clean.length * 3) / 4) - padding);
}
