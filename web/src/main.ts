import { renderBoard } from './board';
import { createApi, GraphQLRequestError, type Api } from './graphql';
import { forgetToken, storedToken, storeToken } from './session';
import { renderSignIn } from './signIn';

const root = document.getElementById('app')!;
let api: Api | undefined;
let closeBoard = () => {};

function signOut(problem?: string): void {
  closeBoard();
  closeBoard = () => {};
  api?.close();
  api = undefined;
  forgetToken();
  void renderSignIn(root, signIn, problem);
}

function signIn(token: string): void {
  storeToken(token);
  void start(token);
}

async function start(token: string): Promise<void> {
  // Answers still on their way from a previous sign-in must not sign this one out.
  const current: Api = createApi(
    token,
    () => api === current && signOut('Your sign-in expired or was refused: sign in again.'),
  );
  api = current;
  try {
    closeBoard = await renderBoard(root, current, () => signOut());
  } catch (error) {
    if (!(error instanceof GraphQLRequestError && error.code === 'UNAUTHENTICATED'))
      signOut(`Could not load the care board: ${(error as Error).message}`);
  }
}

const token = storedToken();
if (token) void start(token);
else void renderSignIn(root, signIn);
