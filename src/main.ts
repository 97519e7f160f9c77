import { startGateway } from './runtime/gateway';
import { runProcess } from './runtime/process';

/** `npm start` / `baygate serve`: the HTTP gateway. */
await runProcess('gateway', async (config, logger) => (await startGateway(config, logger)).stopSteps);
