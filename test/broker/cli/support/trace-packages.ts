// `node --import …/trace-packages.js`: registers the resolve hook of `trace-packages-hooks.js`, which
// reports every npm package the process loads, for the CLI start-up suite.
import { register } from 'node:module';

register('./trace-packages-hooks.js', import.meta.url);
