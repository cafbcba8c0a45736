// Order ids: order_<customer>_<5 chars>. The customer part is lower-cased and reduced to [a-z0-9]; the
// suffix is random, or, for a request with an Idempotency-Key, derived from the key, so that the same key
// always names the same workflow instance and the engine itself refuses a second one.
import { createHash } from 'node:crypto';
import { customAlphabet } from 'nanoid';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const randomSuffix = customAlphabet(ALPHABET, 5);

export function customerSlug(customer: string): string {
  return (
    customer
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 64) || 'customer'
  );
}

export function newOrderId(customer: string): string {
  return `order_${customerSlug(customer)}_${randomSuffix()}`;
}

export function orderIdForKey(customer: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`${customer}\n${idempotencyKey}`).digest();
  const suffix = Array.from(digest.subarray(0, 5), (byte) => ALPHABET[byte % ALPHABET.length]).join('');
  return `order_${customerSlug(customer)}_${suffix}`;
}

/** A stable fingerprint of a request body, to tell a retry from a different order under the same key. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32);
}
