import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { MongoNetworkError } from 'mongodb';

/**
 * Works around a hang in the mongodb driver (7.8.0, lib/cmap/connection.js, `Connection.writeCommand`),
 * the root cause of the "wedged client" of docs/CHAOS.md (findings 4 and 13):
 *
 * When the server closes its sockets (FerretDB restarting), a pool connection's 'close' marks the server
 * Unknown and, with operations waiting, the topology asks the monitor for a check at once — before the
 * monitor's own socket, destroyed in the same turn, has emitted 'close'. The monitor reuses that connection;
 * `socket.write()` on a destroyed socket returns false without an error and the driver awaits a 'drain'
 * that never comes (socket timeouts do nothing on a destroyed socket, and the later 'close' only fails a
 * pending reader). The check never settles, the monitor stays "monitoring" and never checks again: the client
 * finds no server for ever while a new client connects at once. Measured with a restart loop under load:
 * 6 wedges in 34 FerretDB restarts without this guard, 0 in 28 with it.
 *
 * The guard: a command written to a destroyed socket fails at once with a network error, and one waiting
 * for 'drain' fails when the socket closes; the check then fails normally and the next opens a new socket.
 * It patches a driver internal: test/store/mongo-write-guard.test.ts says when an upgrade makes it moot.
 */
interface DriverConnection {
  socket: Socket;
  id: number | string;
  address: string;
  onError(error: Error): void;
  writeCommand(command: unknown, options: unknown): Promise<void>;
}

type WriteCommand = DriverConnection['writeCommand'] & { guarded?: true };

export function installMongoWriteGuard(): void {
  const require = createRequire(import.meta.url);
  const { Connection } = require('mongodb/lib/cmap/connection.js') as { Connection: { prototype: DriverConnection } };
  const original = Connection.prototype.writeCommand as WriteCommand;
  if (original.guarded) return;
  const guarded: WriteCommand = function (this: DriverConnection, command: unknown, options: unknown): Promise<void> {
    const socket = this.socket;
    const closed = (): MongoNetworkError => new MongoNetworkError(`connection ${this.id} to ${this.address} closed`);
    if (socket.destroyed) {
      const error = closed();
      this.onError(error);
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      const onClose = (): void => reject(closed());
      socket.once('close', onClose);
      original
        .call(this, command, options)
        .then(resolve, reject)
        .finally(() => socket.off('close', onClose));
    });
  };
  guarded.guarded = true;
  Connection.prototype.writeCommand = guarded;
}
