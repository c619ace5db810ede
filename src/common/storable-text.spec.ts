import { StorableChunks, storableBody } from './storable-text.js';

describe('storableBody', () => {
  it('replaces lone surrogates and U+0000 in every string of a body, nested ones too, and leaves pairs alone', () => {
    const body = { title: 'a\ud800b', pair: '😀', nul: 'x\0y', list: ['\udc00', 1, null, { deep: ['x\ud83d'] }], n: 2 };
    expect(storableBody(body)).toEqual({
      title: 'a\ufffdb',
      pair: '😀',
      nul: 'x\ufffdy',
      list: ['\ufffd', 1, null, { deep: ['x\ufffd'] }],
      n: 2,
    });
  });

  it('fixes a value under the key __proto__ without touching the prototype', () => {
    const body = JSON.parse('{"__proto__":"a\\ud800"}') as Record<string, unknown>;
    storableBody(body);
    expect(Object.getOwnPropertyDescriptor(body, '__proto__')?.value).toBe('a\ufffd');
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
  });
});

describe('StorableChunks', () => {
  const run = (...chunks: string[]) => {
    const text = new StorableChunks();
    const out = chunks.map((chunk) => text.next(chunk));
    return { out, end: text.end() };
  };

  it('keeps a surrogate pair split across chunks, emitting it whole with the second chunk', () => {
    expect(run('x\ud83d', '\ude00y')).toEqual({ out: ['x', '😀y'], end: '' });
    expect(run('\ud83d', '', '\ude00')).toEqual({ out: ['', '', '😀'], end: '' });
  });

  it('replaces lone surrogates, held or not, and U+0000 with U+FFFD', () => {
    expect(run('a\ud800', 'b', '\udc00c')).toEqual({ out: ['a', '\ufffdb', '\ufffdc'], end: '' });
    expect(run('a\ud800\ud800', 'b')).toEqual({ out: ['a\ufffd', '\ufffdb'], end: '' });
    expect(run('n\0', '\0')).toEqual({ out: ['n\ufffd', '\ufffd'], end: '' });
  });

  it('ends a text that stops after the first half of a pair with U+FFFD', () => {
    expect(run('end\ud83d')).toEqual({ out: ['end'], end: '\ufffd' });
  });
});
