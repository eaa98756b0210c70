// What the browser scripts share (tests/suites/browser.sh runs them): the settings the suite
// passes in the environment, axe-core and the WCAG tags it checks, the two viewports, and the
// steps that print "ok - ..." lines and end with "N passed, N failed".
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function env(k) {
  if (!process.env[k]) {
    throw new Error(`${k} is not set (run tests/suites/browser.sh)`);
  }
  return process.env[k];
}

// Debian's chromium, headless, quiet (no network of its own), as every script launches it.
export function launchChromium(chromium) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export function check(cond, what) {
  if (!cond) {
    throw new Error(`check failed: ${what}`);
  }
}

// A script's steps. Each passes or fails, printing the first lines of what failed; with
// stopAfterFailure the later steps are reported as not run (a story's steps build on each other).
export function steps({ stopAfterFailure = true, traceLines = 12 } = {}) {
  let passed = 0;
  let failed = 0;
  let aborted = false;
  async function step(name, fn) {
    if (aborted) {
      console.log(`not ok - ${name} # not run after an earlier failure`);
      failed++;
      return;
    }
    try {
      await fn();
      console.log(`ok - ${name}`);
      passed++;
    } catch (e) {
      console.log(`not ok - ${name}`);
      for (const line of String(e && e.stack ? e.stack : e).split('\n').slice(0, traceLines)) {
        console.log(`#   ${line}`);
      }
      failed++;
      aborted = stopAfterFailure;
    }
  }
  // A failure outside every step (set-up, a crash): counted, with its first lines.
  function outside(what, e) {
    console.log(`not ok - ${what}`);
    console.log(`#   ${String(e && e.stack ? e.stack : e).split('\n').slice(0, 8).join('\n#   ')}`);
    failed++;
  }
  function finish() {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
  }
  return { step, outside, finish };
}
