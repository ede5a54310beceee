import { createConfig, lintFromString } from '@redocly/openapi-core';
import { OPENAPI_DOCUMENT } from './openapi';

/** Other teams generate clients from this document: it must pass a standard linter. */
describe('the admin API OpenAPI document', () => {
  it("passes Redocly's recommended rules with no error or warning", async () => {
    const problems = await lintFromString({
      source: JSON.stringify(OPENAPI_DOCUMENT),
      absoluteRef: 'openapi.json',
      config: await createConfig({ extends: ['recommended'] }),
    });
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message}`)).toEqual([]);
  });

  it('gives every operation a unique operationId, and names its servers and licence', () => {
    const operations = Object.values(OPENAPI_DOCUMENT.paths).flatMap((item) =>
      Object.values(item as Record<string, { operationId?: string }>),
    );
    const ids = operations.map((o) => o.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(OPENAPI_DOCUMENT.servers.length).toBeGreaterThan(0);
    expect(OPENAPI_DOCUMENT.info.license).toEqual({ name: 'Apache-2.0', identifier: 'Apache-2.0' });
  });
});
