import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** PostgreSQL's own iteration count for SCRAM verifiers (`scram_iterations` default). */
export const SCRAM_ITERATIONS = 4096;

/**
 * A SCRAM-SHA-256 verifier for `password` in the form PostgreSQL stores in `pg_authid.rolpassword`
 * (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, RFC 5802 §3 and RFC 7677), as psql's
 * `\password` computes it client side (libpq `PQencryptPasswordConn`). Given as `PASSWORD '…'` the
 * server stores it as is, so the plaintext password never reaches the server, its statement log or
 * an error report. The password must already be SASLprep-normalised (RFC 4013): the adapter's
 * passwords are URL-safe base64, which SASLprep leaves unchanged.
 */
export async function scramSha256Verifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations: number = SCRAM_ITERATIONS,
): Promise<string> {
  const salted = await pbkdf2Async(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  const b64 = (b: Buffer) => b.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}
