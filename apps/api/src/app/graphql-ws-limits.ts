import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { APP_CONFIG, type AppConfig } from './config/config';

/** How long a socket refused for its message size keeps its connection, for the close frame to reach the peer. */
const CLOSE_FLUSH_MS = 200;

/** The part of a `ws` WebSocket this touches. */
interface WsSocket {
  close(code: number, reason: string): void;
  on(event: 'error', listener: () => void): unknown;
  terminate(): void;
}

/** The part of a `ws` WebSocketServer this touches. */
interface WsServer {
  options: { maxPayload?: number };
  on(event: 'connection', listener: (socket: WsSocket) => void): unknown;
}

/** Where @nestjs/graphql keeps its servers (GqlSubscriptionService); not configurable through its options. */
interface SubscriptionService {
  wss?: WsServer;
  subTransWs?: WsServer;
}

function isWsServer(value: unknown): value is WsServer {
  return typeof value === 'object' && value !== null && 'options' in value && typeof (value as WsServer).on === 'function';
}

/**
 * Caps graphql-ws messages. The `ws` default is 100 MiB, held in memory
 * before graphql-ws, let alone authentication, sees a byte: ten sockets made
 * a gigabyte. @nestjs/graphql creates its WebSocketServers without a way to
 * pass `maxPayload`, so it is set on them once they exist; `ws` reads it for
 * each new connection. If they cannot be found (an upgrade moved them), boot
 * fails rather than run without the cap.
 */
@Injectable()
export class GraphQLWsLimits implements OnApplicationBootstrap {
  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const graphql = this.moduleRef.get(GraphQLModule, { strict: false });
    const service = (graphql.graphQlAdapter as unknown as { _subscriptionService?: SubscriptionService })._subscriptionService;
    const { wss, subTransWs } = service ?? {};
    if (!isWsServer(wss) || !isWsServer(subTransWs)) {
      throw new Error('graphql-ws server not found: cannot cap its message size');
    }
    wss.options.maxPayload = this.config.wsMaxMessageBytes;
    subTransWs.options.maxPayload = this.config.wsMaxMessageBytes;
    // On a message over the cap `ws` sends close 1009 and then reads, to throw away, whatever
    // the peer goes on sending until it answers the close (30 s at most): ten hostile sockets
    // made that hundreds of MB of buffers to collect. Instead the connection is dropped once
    // the close frame has had time to go out.
    wss.on('connection', (socket) => socket.on('error', () => setTimeout(() => socket.terminate(), CLOSE_FLUSH_MS).unref()));
    // The legacy `graphql-ws` subprotocol lands on a server nobody serves: without this its sockets stay open, unauthenticated, for ever.
    subTransWs.on('connection', (socket) => socket.close(4406, 'Subprotocol not acceptable'));
  }
}
