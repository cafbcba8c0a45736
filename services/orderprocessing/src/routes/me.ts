// GET /me: who the request's token belongs to. The live page's sign-in asks it, through Dapr, whether a
// token may read customers' names (an approver's or the admin's may); without a token, or with one that
// is neither, 401.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Approver, roleOf } from '#shared/auth.ts';
import { problems, Unauthorized } from '#shared/errors.ts';
import { limit } from '#shared/rateLimits.ts';

export interface MeRouteOptions {
  approvers: Approver[];
  adminToken: string | undefined;
  readsPerMinute: number;
}

const meRoute: FastifyPluginAsyncZod<MeRouteOptions> = async (app, { approvers, adminToken, readsPerMinute }) => {
  app.get(
    '/me',
    {
      config: limit('reads', readsPerMinute),
      schema: { response: { 200: z.object({ role: z.enum(['approver', 'admin']) }), ...problems(401, 429) } },
    },
    async (request) => {
      const role = roleOf(request, approvers, adminToken);
      if (role === 'anonymous') throw new Unauthorized('needs Authorization: Bearer <approver or admin token>');
      return { role };
    },
  );
};

export default meRoute;
