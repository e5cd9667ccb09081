import type { Command } from 'commander';
import type { CommandContext } from '../program.js';
import type { VerifyFlags } from './svid-verify-run.js';

/**
 * `taskpass svid verify --bundle [TD=]FILE… (--x509 CHAIN | --jwt TOKEN_OR_FILE --audience AUD) [--now S]`:
 * verifies an SVID against the given bundles; prints `{spiffe_id, expires_at}` or the coded reason.
 */
export function registerSvidVerify(svid: Command, ctx: CommandContext): void {
  svid
    .command('verify')
    .description('verify an X509-SVID or JWT-SVID against SPIFFE bundles')
    .requiredOption(
      '--bundle <[td=]file...>',
      'SPIFFE bundle (JWKS JSON) or PEM roots; TD=FILE for another trust domain',
    )
    .option('--x509 <pem-chain-file>', 'X509-SVID chain, leaf first (PEM or DER)')
    .option('--jwt <token-or-file>', 'JWT-SVID, or a file holding one')
    .option('--audience <aud...>', 'expected JWT-SVID audience')
    .option('--now <unix-seconds>', 'verify as of this time instead of now')
    .action(async (flags: VerifyFlags) => {
      // Loaded on use: every `taskpass` invocation loads this module (CLI start-up time).
      const { runSvidVerify } = await import('./svid-verify-run.js');
      await runSvidVerify(flags, ctx);
    });
}
