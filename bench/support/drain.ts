/**
 * Stands in for the clearance centers during bench/pipeline.ts: consumes every center queue of the
 * benchmark's vhost and acknowledges each manifest, without receipts (the benchmark measures Baygate up
 * to the broker's confirm, not the center). Prints the count on SIGTERM.
 *
 *   node --import tsx bench/support/drain.ts <amqp url> <queue> [<queue>…]
 */
import amqp from 'amqplib';

const [url, ...queues] = process.argv.slice(2);
if (!url || queues.length === 0) throw new Error('usage: drain.ts <amqp url> <queue>…');
const connection = await amqp.connect(url);
const channel = await connection.createChannel();
await channel.prefetch(1000);
let drained = 0;
for (const queue of queues) {
  await channel.consume(queue, (msg) => {
    if (!msg) return;
    drained++;
    channel.ack(msg);
  });
}
process.stdout.write('drain ready\n');
process.on('SIGTERM', () => {
  process.stdout.write(JSON.stringify({ drained }) + '\n');
  void connection.close().finally(() => process.exit(0));
});
