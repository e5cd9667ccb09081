import { SpiffeError } from '../errors.js';

/**
 * Parses a bundle endpoint URL: absolute, `https` (Trust Domain and Bundle §5: the endpoint is a
 * TLS-protected HTTP endpoint), without credentials in it.
 *
 * @throws {SpiffeError} `SPIFFE_BUNDLE_BAD_ENDPOINT` naming the problem.
 */
export function parseEndpointUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new SpiffeError('SPIFFE_BUNDLE_BAD_ENDPOINT', 'url is not absolute', { cause: err });
  }
  if (parsed.protocol !== 'https:') throw new SpiffeError('SPIFFE_BUNDLE_BAD_ENDPOINT', 'url must use https');
  if (parsed.username !== '' || parsed.password !== '') {
    throw new SpiffeError('SPIFFE_BUNDLE_BAD_ENDPOINT', 'url must not contain credentials');
  }
  return parsed;
}
