// The floor of the gateway benchmark: a bare Fastify answering a constant, in its own process.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.send?.('listening');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
