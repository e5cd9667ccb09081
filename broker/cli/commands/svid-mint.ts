import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SpiffeId } from '../../../spiffe/spiffe-id.js';
import { BrokerError } from '../../errors.js';
import { parseDurationSeconds } from '../../domain/duration.js';
import { openDevCa, withDevCaFlags, type DevCaFlags } from '../dev-defaults.js';
import { writeCliFile } from '../files.js';
import type { CommandContext } from '../program.js';

interface MintFlags extends DevCaFlags {
  id: string;
  x509?: boolean;
  jwt?: boolean;
  out?: string;
  audience?: string[];
  ttl?: string;
}

/** File names written by `svid mint --x509 --out DIR`, the layout SPIRE's `api fetch x509 -write` uses. */
export const X509_OUT_FILES = { chain: 'svid.0.pem', key: 'svid.0.key', bundle: 'bundle.0.pem' } as const;

/**
 * `taskpass svid mint --id SPIFFE_ID (--x509 --out DIR | --jwt --audience AUD) [--ttl DURATION]`:
 * mints an SVID from the development CA in `--data-dir`.
 */
export function registerSvidMint(svid: Command, ctx: CommandContext): void {
  withDevCaFlags(svid.command('mint'))
    .description('mint an X509-SVID or JWT-SVID from the development CA')
    .requiredOption('--id <spiffe-id>', 'SPIFFE ID to mint for (in the CA trust domain)')
    .option('--x509', 'mint an X509-SVID (needs --out)')
    .option('--out <dir>', 'directory for svid.0.pem, svid.0.key and bundle.0.pem')
    .option('--jwt', 'mint a JWT-SVID (needs --audience)')
    .option('--audience <aud...>', 'JWT-SVID audience (repeatable)')
    .option('--ttl <duration>', 'lifetime, e.g. 5m or 1h')
    .action(async (flags: MintFlags) => {
      if (flags.x509 === flags.jwt)
        throw new BrokerError('BROKER_CLI_USAGE', 'give exactly one of --x509 or --jwt');
      const id = SpiffeId.parse(flags.id);
      const ttlSeconds = flags.ttl === undefined ? undefined : parseDurationSeconds(flags.ttl);
      const ca = await openDevCa(flags, ctx.clock);
      const { encodeCertificatesPem } = await import('../../../spiffe/pem.js');
      const now = ctx.clock.now();
      if (flags.x509) {
        if (!flags.out) throw new BrokerError('BROKER_CLI_USAGE', '--x509 needs --out DIR');
        const svid = await ca.mintX509Svid({ id, now, ...(ttlSeconds ? { ttlSeconds } : {}) });
        const out = resolve(flags.out);
        const files = {
          chain: join(out, X509_OUT_FILES.chain),
          key: join(out, X509_OUT_FILES.key),
          bundle: join(out, X509_OUT_FILES.bundle),
        };
        await writeCliFile(files.chain, encodeCertificatesPem(svid.certificates), 0o644);
        await writeCliFile(files.key, svid.privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
        await writeCliFile(files.bundle, encodeCertificatesPem(ca.bundle().x509Authorities), 0o644);
        ctx.result({ spiffe_id: svid.id.toString(), expires_at: svid.expiresAt.toISOString(), files });
        return;
      }
      if (!flags.audience?.length) throw new BrokerError('BROKER_CLI_USAGE', '--jwt needs --audience');
      const svid = await ca.mintJwtSvid({
        id,
        now,
        audience: flags.audience,
        ...(ttlSeconds ? { ttlSeconds } : {}),
      });
      // The token is the command's product: it goes to stdout only, never to a file or log.
      ctx.result({
        spiffe_id: svid.id.toString(),
        expires_at: svid.expiresAt.toISOString(),
        token: svid.token,
      });
    });
}
