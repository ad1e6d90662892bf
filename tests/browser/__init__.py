"""End-to-end tests: the real server driven by headless Debian Chromium (Playwright)."""
