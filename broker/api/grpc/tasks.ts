/**
 * Task RPCs: `StartTask`, `GetTask`, `CompleteTask`, `FailTask` (the task's workload) and `ListTasks`
 * (operators). Validate, call the {@link TaskPort}, map the result; ownership and roles are decided by
 * the port (another workload's task is `BROKER_TASK_NOT_FOUND`, as a missing one).
 *
 * @packageDocumentation
 */
import type * as grpc from '@grpc/grpc-js';
import type { ManifestEntry, TaskStatus } from '../../domain/task.js';
import { LIMITS } from '../http/schemas.js';
import type { HttpPorts, StartTaskInput, TaskListFilter } from '../ports.js';
import { unary, type HandlerContext } from './handler.js';
import type { FailTaskRequest, ListTasksRequest, StartTaskRequest, TaskIdRequest } from './proto.js';
import * as v from './validate.js';
import { taskView } from './views.js';

const TASK_STATUSES: readonly TaskStatus[] = ['active', 'completed', 'failed', 'expired', 'revoked'];

/** `StartTaskRequest` → the port's input, with the HTTP API's limits. */
export function startTaskInput(req: StartTaskRequest): StartTaskInput {
  const manifest = req.manifest ?? [];
  if (manifest.length > LIMITS.manifest) {
    throw v.invalid('manifest', `must have at most ${LIMITS.manifest} entries`);
  }
  const entries: ManifestEntry[] = manifest.map((e, i) => ({
    provider: v.name(e.provider, `manifest[${i}].provider`),
    scopes: v.scopes(e.scopes, `manifest[${i}].scopes`),
  }));
  const text = req.intent?.text;
  const ttl = v.ttlSeconds(req.ttl_seconds);
  const parent = v.optionalUuid(req.parent_task_id, 'parent_task_id');
  return {
    intent: {
      name: v.text(req.intent?.name, 'intent.name', LIMITS.name),
      ...(text !== undefined && { text: v.text(text, 'intent.text', LIMITS.text, 0) }),
    },
    manifest: entries,
    ...(ttl !== undefined && { ttlSeconds: ttl }),
    ...(parent !== undefined && { parentTaskId: parent }),
  };
}

/** `ListTasksRequest` → the port's filter. */
export function taskListFilter(req: ListTasksRequest): TaskListFilter {
  const workload = v.optionalSpiffeId(req.workload, 'workload');
  const status = v.optionalOneOf(req.status, TASK_STATUSES, 'status');
  const cursor = v.cursor(req.cursor);
  const limit = v.pageLimit(req.limit);
  return {
    ...(workload !== undefined && { workload }),
    ...(status !== undefined && { status }),
    ...(cursor !== undefined && { cursor }),
    ...(limit !== undefined && { limit }),
  };
}

/** The task RPCs of the Broker service. */
export function taskHandlers(ports: HttpPorts, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    StartTask: unary(ctx, async (caller, req: StartTaskRequest) =>
      taskView(await ports.tasks.start(caller, startTaskInput(req))),
    ),
    GetTask: unary(ctx, async (caller, req: TaskIdRequest) =>
      taskView(await ports.tasks.get(caller, v.uuid(req.id, 'id'))),
    ),
    CompleteTask: unary(ctx, async (caller, req: TaskIdRequest) =>
      taskView(await ports.tasks.complete(caller, v.uuid(req.id, 'id'))),
    ),
    FailTask: unary(ctx, async (caller, req: FailTaskRequest) => {
      const id = v.uuid(req.id, 'id');
      return taskView(await ports.tasks.fail(caller, id, v.optionalText(req.reason, 'reason', LIMITS.text)));
    }),
    ListTasks: unary(ctx, async (caller, req: ListTasksRequest) => {
      const page = await ports.tasks.list(caller, taskListFilter(req));
      return { tasks: page.items.map(taskView), next_cursor: page.nextCursor };
    }),
  };
}
