import { contentText, toolResultOutput } from './mcp-tool-result.js';

describe('toolResultOutput', () => {
  it('joins the text parts and says what the others were, without their data', () => {
    const png = Buffer.alloc(1234).toString('base64');
    expect(
      toolResultOutput({
        content: [
          { type: 'text', text: 'first' },
          { type: 'image', data: png, mimeType: 'image/png' },
          { type: 'audio', data: Buffer.alloc(10).toString('base64'), mimeType: 'audio/wav' },
          { type: 'resource_link', uri: 'https://example.com/a.pdf', name: 'a.pdf' },
          { type: 'resource', resource: { uri: 'file:///b.bin', blob: Buffer.alloc(5).toString('base64'), mimeType: 'application/octet-stream' } },
          { type: 'resource', resource: { uri: 'file:///c.txt', text: 'c text' } },
          { type: 'text', text: 'last' },
        ],
      }),
    ).toBe(
      'first\n[image: image/png, 1234 bytes]\n[audio: audio/wav, 10 bytes]\n[resource link: https://example.com/a.pdf]\n' +
        '[resource: file:///b.bin, application/octet-stream, 5 bytes]\n[resource: file:///c.txt]\nc text\nlast',
    );
  });

  it('gives the structured content when there is no text, and an empty text when there is nothing', () => {
    expect(toolResultOutput({ content: [], structuredContent: { a: 1 } })).toEqual({ a: 1 });
    expect(toolResultOutput({ content: [{ type: 'text', text: '{"a":1}' }], structuredContent: { a: 1 } })).toBe('{"a":1}');
    expect(toolResultOutput({ content: [] })).toBe('');
    expect(contentText([])).toBe('');
  });
});
