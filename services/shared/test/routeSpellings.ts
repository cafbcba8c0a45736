// Other spellings of a route's path: what an outsider tries when a check compares the URL as written while
// the router matches it decoded. Each must be served as the route itself (and checked as such) or not at all.

const encodeChar = (char: string) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/** `/notifications/bulk` → `/%6Eotifications/bulk`, `//notifications/bulk`, `/NOTIFICATIONS/BULK`, … */
export function pathVariants(path: string): string[] {
  const segments = path.split('/').slice(1);
  const letters = [...path].map((char, index) => ({ char, index })).filter(({ char }) => /[a-z]/i.test(char));
  const encodeAt = (at: number) => [...path].map((char, index) => (index === at ? encodeChar(char) : char)).join('');
  const first = letters[0]?.index ?? 1;
  const last = letters.at(-1)?.index ?? 1;
  const variants = [
    encodeAt(first),
    encodeAt(last),
    [...path].map((char) => (/[a-z]/i.test(char) ? encodeChar(char) : char)).join(''),
    [...path].map((char) => (/[a-z]/i.test(char) ? encodeChar(char).toLowerCase() : char)).join(''),
    path.toUpperCase(),
    path.replace(/[a-z]/, (char) => char.toUpperCase()),
    `/${path}`,
    path.replace(/\/(?=[^/]*$)/, '//'),
    `${path}/`,
    `${path}?x=1`,
    `${path};x=1`,
    `${path}%00`,
    `${path}%20`,
    `/./${segments.join('/')}`,
    `/x/../${segments.join('/')}`,
    `/${segments.join('%2F')}`,
    `/${segments.join('%2f')}`,
  ];
  return [...new Set(variants)].filter((variant) => variant !== path);
}

type Route = [method: string, path: string];

/** Every route only the sidecar may call, by app id (an order id stands in for a route's parameter). */
export const SIDECAR_ONLY_ROUTES: Record<string, Route[]> = {
  inventory: [
    ['POST', '/reserve'],
    ['POST', '/release'],
    ['GET', '/inventory'],
    ['GET', '/inventory/reservations/order_x_aaaaa'],
  ],
  payments: [
    ['POST', '/charge'],
    ['POST', '/refund'],
    ['GET', '/payments/order_x_aaaaa'],
  ],
  shipping: [
    ['POST', '/ship'],
    ['POST', '/cancel'],
    ['GET', '/shipping/status'],
    ['GET', '/shipping/order_x_aaaaa'],
  ],
  notifications: [
    ['POST', '/notifications'],
    ['POST', '/notifications/bulk'],
  ],
};

/** Every route open to callers from outside (with their own credentials where the route asks for one). */
export const PUBLIC_ROUTES: Record<string, Route[]> = {
  orderprocessing: [
    ['POST', '/orders'],
    ['GET', '/orders'],
    ['GET', '/orders/order_x_aaaaa'],
    ['POST', '/orders/order_x_aaaaa/approve'],
    ['POST', '/orders/order_x_aaaaa/cancel'],
    ['DELETE', '/orders/order_x_aaaaa'],
    ['GET', '/me'],
    ['GET', '/docs/json'],
    ['GET', '/healthz'],
  ],
  notifications: [
    ['GET', '/'],
    ['GET', '/app.js'],
    ['GET', '/api/orders'],
    ['GET', '/api/orders/order_x_aaaaa/timeline'],
    ['POST', '/api/orders/order_x_aaaaa/approve'],
    ['POST', '/api/session'],
    ['DELETE', '/api/session'],
    ['GET', '/healthz'],
  ],
  shipping: [
    ['POST', '/shipping/deactivate'],
    ['POST', '/shipping/activate'],
    ['GET', '/healthz'],
  ],
  inventory: [['GET', '/healthz']],
  payments: [['GET', '/healthz']],
};
