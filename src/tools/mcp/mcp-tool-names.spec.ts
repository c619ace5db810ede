import { assignToolNames, plainToolName, TOOL_NAME } from './mcp-tool-names.js';

describe('MCP tool names', () => {
  it('are <server>_<tool>, with every character a function name cannot have made _', () => {
    expect(plainToolName({ server: 'docs', tool: 'search' })).toBe('docs_search');
    expect(plainToolName({ server: 'my docs', tool: 'search.v2/ü' })).toBe('my_docs_search_v2__');
    expect(plainToolName({ server: 'a-b', tool: 'C_d' })).toBe('a-b_C_d');
  });

  it('longer than 64 characters keep their first 55 and end in a hash of server and tool (the same every time)', () => {
    const long = { server: 'knowledge-base', tool: 'search_every_document_in_the_company_wiki_by_title_and_body' };
    const name = plainToolName(long);
    expect(name).toMatch(TOOL_NAME);
    expect(name).toHaveLength(64);
    expect(name).toMatch(/^knowledge-base_search_every_document_in_the_company_wik_[0-9a-f]{8}$/);
    expect(plainToolName({ ...long })).toBe(name);
    expect(plainToolName({ ...long, tool: `${long.tool}2` })).not.toBe(name);
  });

  it('that two tools would share go to neither: both get hashed names, whatever order they come in', () => {
    const a = { server: 'a.b', tool: 'c' };
    const b = { server: 'a_b', tool: 'c' };
    const other = { server: 'x', tool: 'y' };
    const [nameA, nameB, nameOther] = assignToolNames([a, b, other]);
    expect(nameOther).toBe('x_y');
    expect(nameA).toMatch(/^a_b_c_[0-9a-f]{8}$/);
    expect(nameB).toMatch(/^a_b_c_[0-9a-f]{8}$/);
    expect(nameA).not.toBe(nameB);
    expect(assignToolNames([other, b, a])).toEqual([nameOther, nameB, nameA]);
    // Alone, a tool keeps its plain name.
    expect(assignToolNames([a])).toEqual(['a_b_c']);
  });
});
