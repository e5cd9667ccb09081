/**
 * The development CA: issues X509-SVIDs and JWT-SVIDs for one trust domain and publishes its bundle.
 *
 * @packageDocumentation
 */
export {
  createDevCa,
  DEFAULT_CA_TTL_SECONDS,
  DEFAULT_JWT_TTL_SECONDS,
  DEFAULT_X509_TTL_SECONDS,
  type DevCa,
  type DevCaOptions,
  type MintJwtSvidOptions,
  type MintX509SvidOptions,
} from './dev-ca.js';
export { createCaKeyStore, KEY_STORE_FILES, type CaKeyStore, type X509Authority } from './key-store.js';
export { JWT_ALGORITHMS, type JwtAlgorithm } from './jwt-keys.js';
export { X509_KEY_TYPES, type X509KeyType } from './x509-templates.js';
