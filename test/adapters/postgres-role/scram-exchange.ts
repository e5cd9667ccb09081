/**
 * Plays the server side of a SCRAM-SHA-256 exchange (RFC 5802 §3, §5) against a stored verifier, with
 * node-postgres' own client implementation on the other side — an implementation independent of the
 * adapter's. The test server trusts loopback logins (no password is checked), so this is how the
 * suites prove that a credential's password is the one PostgreSQL stored for its role.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

interface ScramSession {
  clientNonce: string;
  response: string;
}
interface PgSasl {
  startSession(mechanisms: string[]): ScramSession;
  continueSession(session: ScramSession, password: string, serverData: string): Promise<void>;
  finalizeSession(session: ScramSession, serverData: string): void;
}
const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as PgSasl;

const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

/**
 * True when a client holding `password` authenticates against `verifier` (as in
 * `pg_authid.rolpassword`), and the server's signature computed from the verifier satisfies that
 * client in turn. False for a wrong password; throws for a string that is not a SCRAM verifier.
 */
export async function scramAuthenticates(verifier: string, password: string): Promise<boolean> {
  const m = VERIFIER.exec(verifier);
  if (m === null) throw new Error('not a SCRAM-SHA-256 verifier');
  const [, iterations, salt, storedB64, serverB64] = m as unknown as [string, string, string, string, string];
  const storedKey = Buffer.from(storedB64, 'base64');
  const serverKey = Buffer.from(serverB64, 'base64');
  const session = sasl.startSession(['SCRAM-SHA-256']);
  const clientFirstBare = session.response.replace(/^n,,/, '');
  const serverFirst = `r=${session.clientNonce}${randomBytes(18).toString('base64')},s=${salt},i=${iterations}`;
  await sasl.continueSession(session, password, serverFirst);
  const [, withoutProof, proofB64] = /^(.*),p=([^,]+)$/.exec(session.response) ?? [];
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = createHmac('sha256', storedKey).update(authMessage).digest();
  const proof = Buffer.from(proofB64 ?? '', 'base64');
  const clientKey = Buffer.from(proof.map((byte, i) => byte ^ (signature[i] ?? 0)));
  if (!createHash('sha256').update(clientKey).digest().equals(storedKey)) return false;
  const serverSignature = createHmac('sha256', serverKey).update(authMessage).digest('base64');
  sasl.finalizeSession(session, `v=${serverSignature}`);
  return true;
}
