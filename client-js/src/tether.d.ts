// Type declarations of @tether-rt/client (written by hand; see README.md).

/** The six carriers of tether/1, by their public names. */
export type TransportName = 'websocket' | 'streaming' | 'eventsource' | 'longpoll' | 'polling' | 'jsonp';

export interface TetherOptions {
  /** Carriers to try, in order. Default: all six, websocket first. */
  transports?: TransportName[];
  /** Start on the first HTTP carrier and move to websocket once a probe gets through. Default false. */
  upgrade?: boolean;
  /** Milliseconds a carrier has to show that it carries before the next is tried. Default 5000. */
  connectTimeout?: number;
  /** Backoff base, milliseconds: the first retry waits up to this long. Default 500. */
  reconnectDelay?: number;
  /** Cap of the backoff bound, milliseconds. Default 10000. */
  maxReconnectDelay?: number;
  /** Reconnection attempts before giving up (close 1006). Default Infinity. */
  maxReconnectAttempts?: number;
  /** Messages kept unacknowledged (queued while disconnected included) before send fails. Default 1000. */
  maxQueue?: number;
  /** Bytes kept unacknowledged before send fails. Default 1048576. */
  maxQueueBytes?: number;
  /** Send cookies on cross-origin requests (XHR and EventSource). Default true. */
  withCredentials?: boolean;
}

export interface TetherEvent {
  type: string;
  target: Tether;
  currentTarget: Tether;
}

export interface TetherMessageEvent extends TetherEvent {
  type: 'message';
  /** A string for text messages, an ArrayBuffer for binary ones. */
  data: string | ArrayBuffer;
}

export interface TetherCloseEvent extends TetherEvent {
  type: 'close';
  code: number;
  reason: string;
  wasClean: boolean;
}

export interface TetherErrorEvent extends TetherEvent {
  type: 'error';
  error: Error;
  message: string;
}

export interface TetherReconnectingEvent extends TetherEvent {
  type: 'reconnecting';
  /** 1 for the first attempt since the connection last carried. */
  attempt: number;
  /** Milliseconds until the attempt starts. */
  delay: number;
}

export interface TetherReconnectedEvent extends TetherEvent {
  type: 'reconnected';
  /** true: the same session resumed, nothing lost. false: a new session. */
  recovered: boolean;
  /**
   * When recovered is false: messages sent to the lost session that it
   * never acknowledged (it may or may not have received them). They are
   * not re-sent; messages never sent are sent on the new session.
   */
  unconfirmed?: Array<string | ArrayBuffer>;
}

export interface TetherTransportEvent extends TetherEvent {
  type: 'transport';
  transport: TransportName;
  previous: TransportName | null;
}

export interface TetherEventMap {
  open: TetherEvent;
  message: TetherMessageEvent;
  close: TetherCloseEvent;
  error: TetherErrorEvent;
  reconnecting: TetherReconnectingEvent;
  reconnected: TetherReconnectedEvent;
  transport: TetherTransportEvent;
}

type Listener<E> = ((this: Tether, ev: E) => unknown) | { handleEvent(ev: E): unknown };

export declare class Tether {
  constructor(url: string, options?: TetherOptions);

  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  /** CONNECTING (also while reconnecting), OPEN, CLOSING or CLOSED. */
  readonly readyState: 0 | 1 | 2 | 3;
  /** The carrier in use (or last used); null before the first open. */
  readonly transport: TransportName | null;
  /** The session id; null before the first open. */
  readonly id: string | null;
  /** The resolved URL of the mount. */
  readonly url: string;
  /** Bytes of messages sent but not yet acknowledged by the server. */
  readonly bufferedAmount: number;

  /** Queues a message; false (and an error event) when it cannot be queued. */
  send(data: string | ArrayBuffer | ArrayBufferView): boolean;
  /** Ends the session; code is 1000 (default) or 3000-4999. */
  close(code?: number, reason?: string): void;

  onopen: ((this: Tether, ev: TetherEvent) => unknown) | null;
  onmessage: ((this: Tether, ev: TetherMessageEvent) => unknown) | null;
  onclose: ((this: Tether, ev: TetherCloseEvent) => unknown) | null;
  onerror: ((this: Tether, ev: TetherErrorEvent) => unknown) | null;
  onreconnecting: ((this: Tether, ev: TetherReconnectingEvent) => unknown) | null;
  onreconnected: ((this: Tether, ev: TetherReconnectedEvent) => unknown) | null;
  ontransport: ((this: Tether, ev: TetherTransportEvent) => unknown) | null;

  addEventListener<K extends keyof TetherEventMap>(type: K, listener: Listener<TetherEventMap[K]>): void;
  removeEventListener<K extends keyof TetherEventMap>(type: K, listener: Listener<TetherEventMap[K]>): void;
}

export default Tether;

declare global {
  interface Window {
    /** Defined by dist/tether.js and dist/tether.min.js. */
    Tether: typeof Tether;
  }
}
