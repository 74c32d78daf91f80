/**
 * The Jupyter messaging protocol (5.x) on the wire: builds, signs (HMAC-SHA256) and parses
 * messages `[idents…, "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers…]`.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { isJsonObject, parseJson, type JsonObject } from "../values/json-value.js";

/** The protocol version Capstan speaks. */
export const PROTOCOL_VERSION = "5.3";
const DELIMITER = Buffer.from("<IDS|MSG>");

/** A message header. */
export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  username: string;
  session: string;
  date: string;
  version: string;
}

/** A parsed message. */
export interface KernelMessage {
  header: MessageHeader;
  /** the header of the request this message answers; empty for unsolicited messages */
  parent_header: Partial<MessageHeader>;
  metadata: JsonObject;
  content: JsonObject;
  buffers: Buffer[];
}

/** A message that failed its signature check or was malformed. */
export class MessageFormatError extends Error {
  override readonly name = "MessageFormatError";
}

/** A client session: one id and one key, used to sign every message it sends. */
export class Session {
  readonly id = randomId();
  private readonly key: Buffer;
  private counter = 0;

  /** @param key the connection file's key; empty disables signing */
  constructor(key: string, readonly username = "capstan") {
    this.key = Buffer.from(key, "utf8");
  }

  /** A new message of the given type. */
  message(msgType: string, content: JsonObject, metadata: JsonObject = {}): KernelMessage {
    this.counter += 1;
    return {
      header: {
        msg_id: `${this.id}_${process.pid}_${this.counter}`,
        msg_type: msgType,
        username: this.username,
        session: this.id,
        date: new Date().toISOString(),
        version: PROTOCOL_VERSION,
      },
      parent_header: {},
      metadata,
      content,
      buffers: [],
    };
  }

  /** The frames of a message, signed. */
  serialize(message: KernelMessage, idents: Buffer[] = []): Buffer[] {
    const parts = [
      Buffer.from(JSON.stringify(message.header)),
      Buffer.from(JSON.stringify(message.parent_header)),
      Buffer.from(JSON.stringify(message.metadata)),
      Buffer.from(JSON.stringify(message.content)),
    ];
    return [...idents, DELIMITER, Buffer.from(this.sign(parts)), ...parts, ...message.buffers];
  }

  /** Parses received frames, checking the signature. */
  deserialize(frames: readonly Buffer[]): KernelMessage {
    const delimiter = frames.findIndex((frame) => frame.equals(DELIMITER));
    if (delimiter < 0 || frames.length < delimiter + 6) {
      throw new MessageFormatError("message without the <IDS|MSG> delimiter and five parts");
    }
    const signature = frames[delimiter + 1] as Buffer;
    const parts = frames.slice(delimiter + 2, delimiter + 6);
    if (this.key.length > 0) {
      const expected = Buffer.from(this.sign(parts));
      if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
        throw new MessageFormatError("message signature does not match the connection key");
      }
    }
    const [header, parent, metadata, content] = parts.map((part) => part.toString("utf8"));
    const parsedContent = parseJson(content ?? "{}");
    const parsedMetadata = parseJson(metadata ?? "{}");
    return {
      header: JSON.parse(header ?? "{}") as MessageHeader,
      parent_header: JSON.parse(parent ?? "{}") as Partial<MessageHeader>,
      metadata: isJsonObject(parsedMetadata) ? parsedMetadata : {},
      content: isJsonObject(parsedContent) ? parsedContent : {},
      buffers: frames.slice(delimiter + 6),
    };
  }

  private sign(parts: readonly Buffer[]): string {
    if (this.key.length === 0) {
      return "";
    }
    const hmac = createHmac("sha256", this.key);
    for (const part of parts) {
      hmac.update(part);
    }
    return hmac.digest("hex");
  }
}

/** A random id in jupyter_client's shape (8-24 hex digits). */
export function randomId(): string {
  const hex = randomBytes(16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8)}`;
}
