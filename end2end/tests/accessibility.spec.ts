// axe-core (from npm, pinned in package.json) on every kind of page, hydrated: no violation of
// WCAG 2.1 A or AA, colour contrast included.
import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { scorecard } from './journeys';

// Evaluated through the browser's debugging protocol: the pages' content security policy allows
// no script but their own, and it stays on.
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

async function violations(page: Page) {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    // @ts-expect-error axe is the script just added
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map(
      (v: { id: string; nodes: { target: string[] }[] }) =>
        `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`,
    );
  });
}

test('every kind of page passes axe-core (WCAG 2.1 AA)', async ({ page }) => {
  await scorecard(page);
  const model = await page.getByTestId('model-row').first().getByRole('link').getAttribute('href');
  const unit = await page.getByTestId('child-row').first().getByRole('link').first().getAttribute('href');
  await page.goto('/search?q=v&kind=model_binary');
  const binary = await page.getByTestId('search-row').first().getByRole('link').getAttribute('href');
  // A campaign of its own, so that its page is among them.
  const created = await page.request.post('/api/v1/campaigns', {
    headers: { Authorization: `Bearer ${process.env.MODELGOV_E2E_EDITOR_TOKEN ?? ''}` },
    data: {
      name: 'Fairness in production',
      scope: 'domain:fairness',
      min_level: 2,
      deployment_status: 'production',
      starts_at: new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10),
      deadline: new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10),
      owner: 'Responsible AI',
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const campaign = `/campaigns/${(await created.json()).id}`;
  const found: string[] = [];
  for (const path of ['/', unit!, model!, binary!, '/units', '/search?q=e', '/metrics/fairness_gap', '/about', '/signin', '/campaigns', campaign]) {
    await page.goto(path);
    await expect(page.locator('main')).toBeVisible();
    found.push(...(await violations(page)).map((v: string) => `${path} ${v}`));
  }
  expect(found).toEqual([]);
});
