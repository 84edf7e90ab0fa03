import { describe, expect, it } from 'vitest';
import { originMatcher } from '../../src/http/cors';

describe('originMatcher', () => {
  const development = originMatcher(['http://localhost:*', 'http://127.0.0.1:*', 'https://care.example.org']);
  it.each<[string, boolean]>([
    ['http://localhost:5173', true],
    ['http://localhost', true],
    ['HTTP://LOCALHOST:3000', true],
    ['http://127.0.0.1:8080', true],
    ['https://care.example.org', true],
    ['https://localhost:5173', false],
    ['http://localhost.evil.example:5173', false],
    ['http://evil.localhost:5173', false],
    ['http://localhost:5173:80', false],
    ['https://care.example.org:8443', false],
    ['https://care.example.org.evil.example', false],
    ['null', false],
    ['', false],
  ])('%s → %s', (origin, admitted) => {
    expect(development(origin)).toBe(admitted);
  });

  it('admits nothing when empty, every real origin with *', () => {
    expect(originMatcher([])('http://localhost:5173')).toBe(false);
    expect(originMatcher(['*'])('https://anywhere.example')).toBe(true);
    expect(originMatcher(['*'])('null')).toBe(false);
  });
});
