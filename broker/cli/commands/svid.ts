import type { Command } from 'commander';
import type { CommandContext } from '../program.js';
import { registerSvidMint } from './svid-mint.js';
import { registerSvidVerify } from './svid-verify.js';

/** `taskpass svid mint|verify`. */
export function registerSvidCommands(program: Command, ctx: CommandContext): void {
  const svid = program.command('svid').description('mint and verify SPIFFE SVIDs');
  registerSvidMint(svid, ctx);
  registerSvidVerify(svid, ctx);
}
