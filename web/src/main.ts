import { renderBoard } from './board';
import { createApi, GraphQLRequestError, type Api } from './graphql';
import { forgetToken, storedToken, storeToken } from './session';
import { renderSignIn } from './signIn';

const root = document.getElementById('app')!;
let api: Api | undefined;

function signOut(problem?: string): void {
  api?.close();
  api = undefined;
  forgetToken();
  delete window.careBoard;
  void renderSignIn(root, signIn, problem);
}

function signIn(token: string): void {
  storeToken(token);
  void start(token);
}

async function start(token: string): Promise<void> {
  api = createApi(token, () => signOut('Your sign-in expired or was refused: sign in again.'));
  try {
    await renderBoard(root, api, () => signOut());
  } catch (error) {
    if (!(error instanceof GraphQLRequestError && error.code === 'UNAUTHENTICATED')) signOut(`Could not load the care board: ${(error as Error).message}`);
  }
}

const token = storedToken();
if (token) void start(token);
else void renderSignIn(root, signIn);
