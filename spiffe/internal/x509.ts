// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill
// loaded first. ESM evaluates imports in order, so every module of ours imports the library through
// this file and never directly.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
