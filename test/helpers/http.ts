/** A decoded HTTP answer, for tests that assert what a client of the simulator or gateway sees. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

export async function httpGet(url: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The `value` array of an OData collection answer, typed for convenience. */
export function values<T = Record<string, unknown>>(answer: HttpAnswer): T[] {
  return (answer.json as { value: T[] }).value;
}
