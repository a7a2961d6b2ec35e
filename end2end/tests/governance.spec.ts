// From scorecard to action, in the browser (issue 17), on the second server scripts/test starts
// (MODELGOV_E2E_GATED_URL: its catalog has the example promotion gates, and its org tree is
// this file's to grow, so the first server's journeys keep counting the demo company's units):
// - a manager starts a campaign for their org and watches a model leave its list of models still
//   short once a measurement lifts it;
// - an editor's promotion is refused by the staging gate, an admin grants an exemption, the
//   promotion passes, and the org's page counts the exemption.
import { expect, test, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { signIn } from './journeys';

const gatedUrl = process.env.MODELGOV_E2E_GATED_URL ?? '';
const gatedEditor = process.env.MODELGOV_E2E_GATED_EDITOR_TOKEN ?? '';
const gatedAdmin = process.env.MODELGOV_E2E_GATED_ADMIN_TOKEN ?? '';

const suffix = `${Date.now()}`;

// Each journey waits for recomputes after its writes.
test.describe.configure({ timeout: 90_000 });
const ref = (id: string) => ({ source: 'e2e', id });

/// An org of its own with one model source (run, binary, a deployment in development).
function org(name: string) {
  const unit = `org-${name}-${suffix}`;
  const model = `gov-${name}-${suffix}`;
  const lines: object[] = [
    { type: 'org_unit', ...ref(unit), name: `Org ${name} ${suffix}` },
    { type: 'asset', ...ref(model), kind: 'model_source', name: `Model ${name} ${suffix}`, owner: ref(unit) },
    { type: 'asset', ...ref(`${model}-run`), kind: 'workflow_run', name: 'run 1', status: 'succeeded' },
    { type: 'asset', ...ref(`${model}-v1`), kind: 'model_binary', name: `${name} v1` },
    { type: 'asset', ...ref(`${model}-dep`), kind: 'deployment', name: `${name} serving`, status: 'development' },
    { type: 'edge', from: ref(model), to: ref(`${model}-run`) },
    { type: 'edge', from: ref(`${model}-run`), to: ref(`${model}-v1`) },
    { type: 'edge', from: ref(`${model}-v1`), to: ref(`${model}-dep`) },
  ];
  return { unit, model, body: lines.map((l) => JSON.stringify(l)).join('\n') };
}

async function post(request: APIRequestContext, base: string, token: string, body: string) {
  const response = await request.post(`${base}/api/v1/records`, {
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-ndjson' },
    data: body,
  });
  expect(response.status(), await response.text()).toBe(200);
}

function day(offset: number): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

async function gatedPage(browser: Browser, token: string, next: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: gatedUrl });
  const page = await context.newPage();
  await signIn(page, token, next);
  return page;
}

test('a manager starts a campaign and watches a model leave its list after a measurement', async ({
  browser,
  request,
}) => {
  expect(gatedUrl, 'MODELGOV_E2E_GATED_URL').not.toBe('');
  const o = org('latency');
  await post(request, gatedUrl, gatedEditor, o.body);
  const page = await gatedPage(browser, gatedEditor, `/models/e2e/${o.model}`);
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

  await page.goto('/campaigns');
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
  const form = page.getByTestId('new-campaign');
  const name = `Latency under 100 ms ${suffix}`;
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Scope').fill('metric:serving_latency');
  await form.getByLabel('At least level').selectOption('2');
  await form.getByLabel(/Org unit/).fill(`e2e/${o.unit}`);
  await form.getByLabel('Deployed in').selectOption('');
  await form.getByLabel('Deadline').fill(day(60));
  await form.getByLabel('Owner').fill('Serving team');
  await form.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('outcome-done')).toContainText(`Campaign ${name} started`);
  await page.getByTestId('campaigns').getByRole('link', { name }).click();

  const short = page.getByTestId('campaign-short');
  await expect(page.getByTestId('goal')).toContainText(
    `every model source of Org latency ${suffix} at metric:serving_latency level 2 (managed) or higher`,
  );
  await expect(short).toContainText(`Model latency ${suffix}`);
  await expect(short).toContainText('serving_latency: Unknown');

  // The serving team reports a p99 of 45 ms for the binary: at the next recompute the model
  // meets the goal and leaves the list.
  await post(
    request,
    gatedUrl,
    gatedEditor,
    JSON.stringify({
      type: 'measurement',
      asset: ref(`${o.model}-v1`),
      name: 'serving_latency_p99_ms',
      value: 45,
      at: new Date().toISOString(),
    }),
  );
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('progress')).toContainText('1 of 1 meet the goal', {
      timeout: 1_000,
    });
  }).toPass({ timeout: 30_000 });
  await expect(short).not.toContainText(`Model latency ${suffix}`);
  await expect(page.getByTestId('chart-burn-down')).toBeVisible();

  // The org's page lists the campaign.
  await page.goto(`/units/e2e/${o.unit}`);
  await expect(page.locator('#campaigns')).toContainText(name);
  expect(errors, errors.join('\n')).toEqual([]);
});

test('a gate refuses a promotion until an admin grants an exemption, and the org counts it', async ({
  browser,
  request,
}) => {
  expect(gatedUrl, 'MODELGOV_E2E_GATED_URL').not.toBe('');
  const o = org('gated');
  await post(request, gatedUrl, gatedEditor, o.body);
  const modelPath = `/models/e2e/${o.model}`;

  // The model page says before the click that the staging gate would refuse it.
  const editor = await gatedPage(browser, gatedEditor, modelPath);
  const gates = editor.getByTestId('gates');
  await expect(gates.locator('[data-gate="staging"]')).toContainText(
    'Promotion to staging: would be refused',
  );
  await expect(gates).toContainText('domain:safety needs 1 (basic)');
  const row = editor.locator(`tr[data-deployment="${o.model}-dep"]`);
  await row.getByRole('button', { name: 'Promote to staging' }).click();
  await expect(editor.locator('#deployments').getByTestId('outcome-refused')).toContainText(
    'the staging gate refuses',
  );
  await expect(row).toContainText('development');

  // An admin grants an exemption for safety until next quarter.
  const admin = await gatedPage(browser, gatedAdmin, modelPath);
  const ask = admin.getByTestId('ask-exemption');
  await ask.getByLabel('For').selectOption('domain:safety');
  await ask.getByLabel('Reason').fill('red-team review booked for next quarter');
  await ask.getByLabel('Expires on').fill(day(90));
  await ask.getByRole('button', { name: 'Grant' }).click();
  await expect(admin.locator('#governance').getByTestId('outcome-done')).toContainText('granted');
  await expect(admin.getByTestId('exemptions')).toContainText('active');

  // The editor's promotion now passes.
  await editor.reload();
  await expect(editor.locator('html')).toHaveAttribute('data-hydrated', 'true');
  await expect(editor.getByTestId('gates').locator('[data-gate="staging"]')).toContainText(
    'would pass',
  );
  await editor
    .locator(`tr[data-deployment="${o.model}-dep"]`)
    .getByRole('button', { name: 'Promote to staging' })
    .click();
  await expect(editor.locator('#deployments').getByTestId('outcome-done')).toContainText(
    'to staging',
  );

  // The org's page counts the model as exempt in safety once the rollups are recomputed.
  const orgPath = `/units/e2e/${o.unit}?scope=domain:safety`;
  await expect(async () => {
    await admin.goto(orgPath);
    // The bar of the page's scope (the first is the overall level's).
    await expect(admin.getByTestId('level-bar').filter({ hasText: '1 exempt' })).toHaveCount(1, {
      timeout: 1_000,
    });
  }).toPass({ timeout: 30_000 });
});
