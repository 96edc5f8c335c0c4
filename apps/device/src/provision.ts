import type { ProvisionDeviceRequest, ProvisionDeviceResponse } from '@ddnn/contracts';

/** The server refused the request (bad key, invalid fields): retrying will not help. */
export class ProvisionRefusedError extends Error {}

/** POST /api/devices/provision; network failures throw plain errors (retry), refusals ProvisionRefusedError. */
export async function provision(server: string, req: ProvisionDeviceRequest): Promise<ProvisionDeviceResponse> {
  const res = await fetch(`${server}/api/devices/provision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(req),
  });
  const text = await res.text();
  if (res.status >= 400 && res.status < 500) {
    let message = text;
    try {
      const body = JSON.parse(text) as { message?: string | string[] };
      message = Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? text);
    } catch {
      // not JSON: keep the text
    }
    throw new ProvisionRefusedError(`provisioning refused (${res.status}): ${message}`);
  }
  if (!res.ok) throw new Error(`provisioning failed: HTTP ${res.status}`);
  return JSON.parse(text) as ProvisionDeviceResponse;
}
