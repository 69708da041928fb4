#!/usr/bin/env node
// The CLI is compiled from TypeScript (src/cli/main.ts); `npm run build` produces dist/.
import '../dist/src/cli/main.js';
