import { ClientError } from 'graphql-request';
import { expect } from 'vitest';

/** Awaits a graphql-request call that must fail, and returns its first error's code and message. */
export async function graphqlError(
  call: Promise<unknown>,
): Promise<{ code: string; message: string; status: number }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    const first = error.response.errors?.[0];
    expect(first, 'a GraphQL error').toBeDefined();
    return { code: String(first?.extensions?.code), message: first!.message, status: error.response.status };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export async function expectCode(call: Promise<unknown>, code: string): Promise<string> {
  const error = await graphqlError(call);
  expect(error.code, error.message).toBe(code);
  return error.message;
}
