import type { Command } from 'commander';
import { BrokerError } from '../../errors.js';
import { openDevCa, withDevCaFlags, type DevCaFlags } from '../dev-defaults.js';
import type { CommandContext } from '../program.js';

/**
 * `taskpass bundle show [--format spiffe|pem]`: prints the development CA's trust bundle, as a SPIFFE
 * bundle (JWKS JSON with X.509 and JWT authorities) or as PEM roots, for `svid verify --bundle`.
 */
export function registerBundleCommands(program: Command, ctx: CommandContext): void {
  const bundle = program.command('bundle').description('SPIFFE trust bundles of the development CA');
  withDevCaFlags(bundle.command('show'))
    .description('print the development CA bundle')
    .option('--format <format>', 'spiffe (JWKS JSON) or pem', 'spiffe')
    .action(async (flags: DevCaFlags & { format: string }) => {
      if (flags.format !== 'spiffe' && flags.format !== 'pem') {
        throw new BrokerError('BROKER_CLI_USAGE', '--format is spiffe or pem');
      }
      const ca = await openDevCa(flags, ctx.clock);
      const [{ marshalBundle }, { encodeCertificatesPem }] = await Promise.all([
        import('../../../spiffe/bundle-json.js'),
        import('../../../spiffe/pem.js'),
      ]);
      // The bundle is a document in its own right (not a record), so it is printed as-is.
      ctx.io.stdout(
        flags.format === 'pem'
          ? encodeCertificatesPem(ca.bundle().x509Authorities)
          : marshalBundle(ca.bundle()) + '\n',
      );
    });
}
