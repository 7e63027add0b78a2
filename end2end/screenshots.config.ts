// The README's screenshots (scripts/screenshots): the main config, another folder of
// specs. Not part of the test suite: these pages are tested in tests/, this only
// photographs them.
import { defineConfig } from '@playwright/test';
import main from './playwright.config';

export default defineConfig({ ...main, testDir: './screenshots', timeout: 180_000 });
