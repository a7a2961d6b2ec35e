// Registry operations and access control in the browser: an editor signs in, promotes a
// deployment to production and rolls it back, and the model's history shows both; a viewer sees
// no action buttons, and a forged POST with the viewer's cookie is refused.
import { expect, test, type APIRequestContext } from '@playwright/test';
import { signIn } from './journeys';

const editorToken = process.env.MODELGOV_E2E_EDITOR_TOKEN ?? '';
const viewerToken = process.env.MODELGOV_E2E_VIEWER_TOKEN ?? '';

// A model of its own, so that the journey does not depend on the demo data: deployment
// `e2e-prod` in staging, serving v2 after having served v1.
const suffix = `${Date.now()}`;
const model = `e2e-model-${suffix}`;
const modelPath = `/models/e2e/${model}`;
const deployment = { source: 'e2e', id: `e2e-prod-${suffix}` };

function records(): string {
  const ref = (id: string) => ({ source: 'e2e', id });
  const lines: object[] = [
    { type: 'asset', ...ref(model), kind: 'model_source', name: `E2E model ${suffix}` },
    { type: 'asset', ...ref(`${model}-run1`), kind: 'workflow_run', name: 'run 1', status: 'succeeded' },
    { type: 'asset', ...ref(`${model}-run2`), kind: 'workflow_run', name: 'run 2', status: 'succeeded' },
    { type: 'asset', ...ref(`${model}-v1`), kind: 'model_binary', name: 'e2e v1' },
    { type: 'asset', ...ref(`${model}-v2`), kind: 'model_binary', name: 'e2e v2' },
    { type: 'asset', ...deployment, kind: 'deployment', name: 'e2e prod', status: 'staging' },
    { type: 'edge', from: ref(model), to: ref(`${model}-run1`) },
    { type: 'edge', from: ref(model), to: ref(`${model}-run2`) },
    { type: 'edge', from: ref(`${model}-run1`), to: ref(`${model}-v1`) },
    { type: 'edge', from: ref(`${model}-run2`), to: ref(`${model}-v2`) },
    { type: 'edge', from: ref(`${model}-v1`), to: deployment },
  ];
  return lines.map((l) => JSON.stringify(l)).join('\n');
}

async function post(request: APIRequestContext, body: string) {
  const response = await request.post('/api/v1/records', {
    headers: { Authorization: `Bearer ${editorToken}`, 'Content-Type': 'application/x-ndjson' },
    data: body,
  });
  expect(response.status(), await response.text()).toBe(200);
}

test.beforeAll(async ({ request }) => {
  expect(editorToken, 'MODELGOV_E2E_EDITOR_TOKEN').not.toBe('');
  expect(viewerToken, 'MODELGOV_E2E_VIEWER_TOKEN').not.toBe('');
  await post(request, records());
  // Then v2: the deployment has served v1 before, so it can be rolled back.
  await post(
    request,
    JSON.stringify({ type: 'edge', from: { source: 'e2e', id: `${model}-v2` }, to: deployment }),
  );
});

test('an editor promotes a deployment to production and rolls it back', async ({ page }) => {
  await signIn(page, editorToken, modelPath);
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const row = page.locator(`tr[data-deployment="${deployment.id}"]`);
  await expect(row).toContainText('staging');
  await expect(row).toContainText('e2e v2');

  await row.getByRole('button', { name: 'Promote to production' }).click();
  await expect(page.getByTestId('outcome-done')).toContainText(
    'promoted e2e prod from staging to production',
  );
  await expect(row).toContainText('production');

  await row.getByRole('button', { name: 'Roll back' }).click();
  await expect(page.getByTestId('outcome-done')).toContainText(
    'rolled back e2e prod from e2e v2 to e2e v1',
  );
  await expect(row).toContainText('e2e v1');

  // From production there is no stage to promote to: the button is not offered.
  await expect(row.getByRole('button', { name: /Promote/ })).toHaveCount(0);

  // The history, read again from the server, shows each step with who did it.
  await page.reload();
  const history = page.getByTestId('history');
  await expect(history).toContainText('promoted e2e prod from staging to production');
  await expect(history).toContainText('rolled back e2e prod from e2e v2 to e2e v1');
  await expect(history).toContainText('token:e2e-editor');
  expect(errors, errors.join('\n')).toEqual([]);
});

test('a viewer sees no action buttons, and a forged POST with their cookie gets 403', async ({
  page,
}) => {
  await signIn(page, viewerToken, modelPath);
  await expect(page.getByTestId('signed-in')).toContainText('viewer');
  await expect(page.getByTestId('deployments')).toContainText('e2e prod');
  await expect(page.locator('#deployments button')).toHaveCount(0);
  await expect(page.locator('#deployments form')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Admin' })).toHaveCount(0);

  // The browser context's cookie is the viewer's session; forge the editor's request with it.
  const me = await page.request.post('/api/fn/whoami', { data: {} });
  const csrf = (await me.json()).csrf as string;
  for (const body of [
    { csrf, op: { op: 'promote', deployment, to: 'production' } },
    { csrf: 'forged', op: { op: 'retire', deployment } },
  ]) {
    const forged = await page.request.post('/api/fn/operate', { data: body });
    expect(forged.status(), await forged.text()).toBe(403);
  }
  const admin = await page.request.post('/api/fn/get_admin_page', { data: {} });
  expect(admin.status()).toBe(403);

  // Signing out ends the session: the sign-in link is back.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByTestId('sign-in-link')).toBeVisible();
});

test('a wrong token is refused on the sign-in page', async ({ page }) => {
  await page.goto('/signin');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await page.getByTestId('token-input').fill('mgv_not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('sign-in-error')).toContainText('unknown or revoked');
  await expect(page.getByTestId('sign-in-link')).toBeVisible();
});

test('an admin maps a waiting label on the ingestion page, which applies the quarantine', async ({
  page,
}) => {
  const adminToken = process.env.MODELGOV_E2E_ADMIN_TOKEN ?? '';
  expect(adminToken, 'MODELGOV_E2E_ADMIN_TOKEN').not.toBe('');
  await signIn(page, adminToken, '/ingestion');
  const row = page.getByTestId('mappings').locator('tr', { hasText: 'vertex' });
  await expect(row).toContainText('no mapping yet');
  const form = page.getByTestId('set-mapping');
  await form.getByRole('textbox', { name: 'Source', exact: true }).fill('vertex');
  await form.getByRole('textbox', { name: 'Label', exact: true }).fill('Endpoint');
  await form.getByRole('combobox').selectOption('deployment');
  await form.getByRole('button', { name: 'Set mapping' }).click();
  await expect(page.getByRole('status')).toContainText('now maps to deployment');
  await expect(row).toContainText('deployment');
  await expect(row.locator('td.num')).toHaveText('0');
});
