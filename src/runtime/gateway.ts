import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { createApp } from '../api/app';
import { healthRoutes } from '../api/routes/health';
import type { Config } from '../config';
import { AmqpClient } from '../queue/amqp';
import { connectMongo, pingMongo } from '../store/mongo';
import { listen } from './http-server';

export interface Gateway {
  port: number;
  mongo: Connection;
  amqp: AmqpClient;
  /** Stop accepting, finish in-flight requests, close RabbitMQ, then MongoDB. */
  stop(): Promise<void>;
  stopSteps: { name: string; run: () => Promise<void> }[];
}

/** Composition root of the HTTP gateway: connects the services and mounts the routers. */
export async function startGateway(config: Config, logger: Logger): Promise<Gateway> {
  const mongo = await connectMongo(config.MONGO_URL, logger);
  // The gateway accepts orders into MongoDB even while the broker is away (the workers publish), so it
  // starts without waiting for RabbitMQ; /readyz reports the broker's state.
  const amqp = new AmqpClient({ url: config.AMQP_URL, logger, connectionName: 'baygate-gateway', waitForConnect: false });
  await amqp.connect();

  const app = createApp({
    logger,
    routers: [
      healthRoutes({
        mongodb: () => pingMongo(mongo),
        rabbitmq: async () => {
          if (!amqp.isReady) throw new Error('no open RabbitMQ channel');
        },
      }),
    ],
  });
  const http = await listen(app, config.PORT, config.HOST);
  logger.info({ port: http.port, host: config.HOST }, 'gateway listening');

  const stopSteps = [
    { name: 'http', run: () => http.close() },
    { name: 'rabbitmq', run: () => amqp.close() },
    { name: 'mongodb', run: () => mongo.close() },
  ];
  return {
    port: http.port,
    mongo,
    amqp,
    stopSteps,
    stop: async () => {
      for (const step of stopSteps) await step.run();
    },
  };
}
