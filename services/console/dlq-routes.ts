// The dead-letter page's routes: the page and one entry's detail (read-only, from the DLQ stream),
// and replay and purge (actions: passed to the admin API with the operator's token, which records
// them as audit events). A replay or purge names its entries by id, so exactly the chosen ones go;
// a preview is the same call as a dry run.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RoleContext } from '#platform/role-runtime.ts';
import type { AdminClient } from './admin-client.ts';
import { renderDlqBody, renderEntryBody, type DlqReader } from './dlq-page.ts';
import { action } from './guard.ts';
import { html } from './html.ts';
import { layout } from './page.ts';

const query = z.object({ q: z.string().max(200).optional(), pool: z.string().max(100).optional(), type: z.string().max(100).optional(), code: z.string().max(100).optional() });
const ids = z.array(z.number().int().positive()).min(1).max(10_000);
const replayBody = z.strictObject({ ids, rate: z.number().int().min(1).max(1_000).default(10), dryRun: z.boolean().default(false) });
const purgeBody = z.strictObject({ ids, dryRun: z.boolean().default(false), confirm: z.boolean().optional() });

export function registerDlqRoutes(app: FastifyInstance, deps: { ctx: RoleContext; admin: AdminClient; dlq: DlqReader }): void {
  const footer = html`Read from the DLQ stream as it is now (reload for the latest). Replay and purge go through the admin API at ${deps.admin.url} with your token, a preview first; each is an audit event.`;
  const page = (body: ReturnType<typeof renderDlqBody>) => layout({ title: 'dead letters', page: '/dlq', body, footer });

  app.get('/dlq', async (request, reply) => {
    const parsed = query.safeParse(request.query);
    const q = parsed.success ? parsed.data : {};
    return reply.type('text/html; charset=utf-8').send(page(renderDlqBody(await deps.dlq.all(), q)));
  });
  app.get<{ Params: { seq: string } }>('/dlq/:seq', async (request, reply) => {
    const seq = Number(request.params.seq);
    const entry = Number.isSafeInteger(seq) && seq > 0 ? await deps.dlq.one(seq) : undefined;
    return reply.code(entry ? 200 : 404).type('text/html; charset=utf-8').send(page(renderEntryBody(entry, seq)));
  });
  app.post('/api/dlq/replay', async (request) => {
    const { authorization, body } = action(request, replayBody);
    const answer = await deps.admin.call('POST', '/admin/dlq/replay', authorization, body);
    deps.ctx.logger.info({ entries: body.ids.length, dryRun: body.dryRun, ip: request.ip }, 'console: DLQ replay passed to the admin API');
    return answer;
  });
  app.post('/api/dlq/purge', async (request) => {
    const { authorization, body } = action(request, purgeBody);
    const answer = await deps.admin.call('POST', '/admin/dlq/purge', authorization, body);
    deps.ctx.logger.info({ entries: body.ids.length, dryRun: body.dryRun, ip: request.ip }, 'console: DLQ purge passed to the admin API');
    return answer;
  });
}
