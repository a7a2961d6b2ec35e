// Playwright journeys against a running modelgov (MODELGOV_E2E_URL), in Debian's Chromium.
// scripts/test builds the server, seeds a throwaway database, starts both and runs these.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  timeout: 30_000,
  use: {
    baseURL: process.env.MODELGOV_E2E_URL ?? 'http://127.0.0.1:3000',
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    { name: 'journeys', testIgnore: /resilience/ },
    // Stops and restarts Postgres under the server, so it runs after everything else.
    { name: 'resilience', testMatch: /resilience/, dependencies: ['journeys'] },
  ],
});
