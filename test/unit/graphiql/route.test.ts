import { describe, expect, it } from 'vitest';
import { prefersHtml } from '../../../src/graphiql/route.js';

/** What Chromium sends when it navigates to a URL. */
const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';

describe('prefersHtml', () => {
  it.each([
    [BROWSER_ACCEPT, true],
    ['text/html', true],
    ['TEXT/HTML; charset=utf-8', true],
    ['text/html, application/json', true],
    ['text/html;q=0.9, application/json;q=0.8', true],
    [undefined, false],
    ['', false],
    ['*/*', false],
    ['text/*', false],
    ['application/json, text/html', false],
    ['text/html;q=0, */*', false],
    ['multipart/mixed, text/html;q=0.9', false],
  ])('%j → %s', (accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});
