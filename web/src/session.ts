/** Who is signed in: the token lives in this tab's session storage only (gone when the tab closes). */
const KEY = 'kap-care-board.token';

export const storedToken = (): string | null => sessionStorage.getItem(KEY);
export const storeToken = (token: string) => sessionStorage.setItem(KEY, token);
export const forgetToken = () => sessionStorage.removeItem(KEY);

export interface DemoClinician {
  name: string;
  email: string;
  role: string;
  token: string;
}

/**
 * The demo clinicians and fresh tokens for them, from the development-only endpoint the server has
 * only when it seeded demo data; an empty list elsewhere.
 */
export async function demoClinicians(): Promise<DemoClinician[]> {
  try {
    const response = await fetch('/dev/demo-tokens', { cache: 'no-store' });
    if (!response.ok) return [];
    return ((await response.json()) as { clinicians: DemoClinician[] }).clinicians;
  } catch {
    return [];
  }
}
