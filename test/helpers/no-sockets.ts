import net from 'node:net';

/**
 * The unit project's setup: a unit test that opens a socket, to connect or to listen, fails at once instead of
 * quietly depending on the network, a service or a free port. `fetch` goes through `net` too, so it fails the same
 * way; a unit that calls HTTP is given a `fetch` of its own.
 */
function refuse(what: string): never {
  throw new Error(
    `a unit test may not ${what}: inject a fake (see test/helpers/no-sockets.ts), or move it to e2e`,
  );
}

net.Socket.prototype.connect = function connect() {
  return refuse('open a connection');
};
net.Server.prototype.listen = function listen() {
  return refuse('listen on a socket');
};
