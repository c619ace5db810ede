// The bench's model: test/support/fake-openai.ts in a process of its own, so that neither the
// app's nor the reference's figures include the upstream's work. Each prompt says how to answer
// (`tokens=<n> delay=<ms>`); GET /__requests reports when each first token and end were sent.
import { FakeOpenAi } from '../test/support/fake-openai.js';

const fake = await FakeOpenAi.start({ fromPrompt: true });
console.log(`fake upstream on ${fake.baseURL}`);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
