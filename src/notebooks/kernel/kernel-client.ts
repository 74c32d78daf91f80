/**
 * A client of one kernel over ZeroMQ: shell and control requests matched to their replies, and
 * IOPub messages routed to whoever waits on the request that caused them.
 */
import { Dealer, Subscriber, type Socket } from "zeromq";
import type { JsonObject } from "../values/json-value.js";
import { channelEndpoint, type ConnectionInfo } from "./connection-file.js";
import { Session, type KernelMessage } from "./session.js";

/** Receives IOPub messages. */
export type IopubListener = (message: KernelMessage) => void;

interface PendingReply {
  resolve: (message: KernelMessage) => void;
  reject: (error: Error) => void;
}

/** The client was closed while a reply was awaited. */
export class ClientClosedError extends Error {
  override readonly name = "ClientClosedError";
}

/** A connected client. Create with {@link KernelClient.connect}; always {@link KernelClient.close}. */
export class KernelClient {
  readonly session: Session;
  private readonly shell: Dealer;
  private readonly control: Dealer;
  private readonly iopub: Subscriber;
  private readonly pending = new Map<string, PendingReply>();
  private readonly iopubByParent = new Map<string, IopubListener>();
  private readonly iopubAny = new Set<IopubListener>();
  private closed = false;
  /** how many IOPub messages arrived since connecting */
  iopubCount = 0;

  private constructor(readonly connection: ConnectionInfo) {
    this.session = new Session(connection.key);
    const options = { linger: 0, reconnectInterval: 10, reconnectMaxInterval: 200 };
    this.shell = new Dealer({ ...options, routingId: `${this.session.id}-shell` });
    this.control = new Dealer({ ...options, routingId: `${this.session.id}-control` });
    this.iopub = new Subscriber(options);
  }

  /** Connects to the kernel's shell, control and IOPub channels (the kernel need not be up yet). */
  static connect(connection: ConnectionInfo): KernelClient {
    const client = new KernelClient(connection);
    client.shell.connect(channelEndpoint(connection, "shell"));
    client.control.connect(channelEndpoint(connection, "control"));
    client.iopub.connect(channelEndpoint(connection, "iopub"));
    client.iopub.subscribe();
    client.receiveLoop(client.shell, (message) => client.onReply(message));
    client.receiveLoop(client.control, (message) => client.onReply(message));
    client.receiveLoop(client.iopub, (message) => client.onIopub(message));
    return client;
  }

  private receiveLoop(socket: Socket & AsyncIterable<Buffer[]>, handle: (message: KernelMessage) => void): void {
    void (async () => {
      try {
        for await (const frames of socket) {
          let message: KernelMessage;
          try {
            message = this.session.deserialize(frames);
          } catch {
            continue; // unsigned or malformed: not from our kernel
          }
          handle(message);
        }
      } catch {
        // the socket was closed
      }
    })();
  }

  private onReply(message: KernelMessage): void {
    const parent = message.parent_header.msg_id;
    const pending = parent === undefined ? undefined : this.pending.get(parent);
    if (pending && parent !== undefined) {
      this.pending.delete(parent);
      pending.resolve(message);
    }
  }

  private onIopub(message: KernelMessage): void {
    this.iopubCount += 1;
    for (const listener of this.iopubAny) {
      listener(message);
    }
    const parent = message.parent_header.msg_id;
    if (parent !== undefined) {
      this.iopubByParent.get(parent)?.(message);
    }
  }

  /** Listens to every IOPub message; returns the function that stops listening. */
  onAnyIopub(listener: IopubListener): () => void {
    this.iopubAny.add(listener);
    return () => this.iopubAny.delete(listener);
  }

  /**
   * Sends a request and returns its message id and the reply promise. IOPub messages caused by
   * the request go to `onIopub`, which is registered before the request is sent.
   */
  request(channel: "shell" | "control", msgType: string, content: JsonObject, onIopub?: IopubListener): { msgId: string; reply: Promise<KernelMessage> } {
    if (this.closed) {
      throw new ClientClosedError("the kernel client is closed");
    }
    const message = this.session.message(msgType, content);
    const msgId = message.header.msg_id;
    if (onIopub) {
      this.iopubByParent.set(msgId, onIopub);
    }
    const reply = new Promise<KernelMessage>((resolve, reject) => {
      this.pending.set(msgId, { resolve, reject });
    });
    // The caller may never await the reply (a shutdown request); that must not be an unhandled rejection.
    reply.catch(() => undefined);
    const socket = channel === "shell" ? this.shell : this.control;
    socket.send(this.session.serialize(message)).catch((error: unknown) => {
      const pending = this.pending.get(msgId);
      this.pending.delete(msgId);
      pending?.reject(error instanceof Error ? error : new Error(String(error)));
    });
    return { msgId, reply };
  }

  /** Stops routing IOPub messages of a request. */
  forget(msgId: string): void {
    this.iopubByParent.delete(msgId);
    this.pending.delete(msgId);
  }

  /** Closes the sockets; pending replies are rejected. */
  close(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    for (const pending of this.pending.values()) {
      pending.reject(new ClientClosedError("the kernel client was closed before the reply came"));
    }
    this.pending.clear();
    this.iopubByParent.clear();
    this.iopubAny.clear();
    this.shell.close();
    this.control.close();
    this.iopub.close();
  }
}
