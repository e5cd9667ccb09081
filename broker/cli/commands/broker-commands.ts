import type { Command } from 'commander';
import type { CommandContext } from '../program.js';
import { registerAuditCommands } from './audit.js';
import { registerCredentialCommands } from './credential.js';
import { registerQuarantineCommands } from './quarantine.js';
import { registerRevokeCommand } from './revoke.js';
import { registerTaskCommands } from './task.js';

/**
 * The commands that talk to a running broker over its HTTP API, through the TS client (`client/`):
 * `task …` and `credential issue` for workloads; `tasks ls`, `credentials ls`, `revoke`, `quarantine`,
 * `quarantines ls` for operators; `audit query|verify` for auditors (DESIGN.md "Interfaces: CLI").
 */
export function registerBrokerCommands(program: Command, ctx: CommandContext): void {
  registerTaskCommands(program, ctx);
  registerCredentialCommands(program, ctx);
  registerRevokeCommand(program, ctx);
  registerQuarantineCommands(program, ctx);
  registerAuditCommands(program, ctx);
}
