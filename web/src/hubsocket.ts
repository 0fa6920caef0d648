// automerge-repo's network adapter for the hub's `/automerge` WebSocket endpoint. A browser
// cannot put a token in a WebSocket's headers, so each connection is opened with a fresh
// single-use ticket (`Directory.IssueSocketTicket`, good for 60 s): automerge-repo's own
// browser adapter reconnects to the same URL, whose ticket is spent by then. Reconnects back
// off (1 s to 30 s) and start at once when the browser comes back online.

import { NetworkAdapter, cbor, type Message, type PeerId, type PeerMetadata } from "@automerge/automerge-repo/slim";

/** Where the connection stands, for the page's status line. */
export type SocketState = "connecting" | "online" | "offline" | "signed-out" | "forbidden";

/** Close codes the hub uses for a socket whose credentials stopped counting. */
const SIGNED_OUT = 4401;
const FORBIDDEN = 4403;

export class HubSocketAdapter extends NetworkAdapter {
  #socket?: WebSocket;
  #remote?: PeerId;
  #ready = false;
  #readyResolve?: () => void;
  #readyPromise = new Promise<void>((resolve) => (this.#readyResolve = resolve));
  #delay = 1000;
  #timer?: ReturnType<typeof setTimeout>;
  #stopped = false;
  #listeners = new Set<(s: SocketState) => void>();
  state: SocketState = "connecting";

  /** `ticketUrl` gives a fresh `ws(s)://…/automerge?ticket=…` URL for each connection. */
  constructor(private ticketUrl: () => Promise<string>) {
    super();
    window.addEventListener("online", () => this.#retryNow());
    // The browser says the network is gone: don't wait for the socket to time out.
    window.addEventListener("offline", () => this.#socket?.close());
  }

  /** Calls `f` with every state change; returns the unsubscriber. */
  onState(f: (s: SocketState) => void): () => void {
    this.#listeners.add(f);
    f(this.state);
    return () => this.#listeners.delete(f);
  }

  #setState(s: SocketState) {
    this.state = s;
    for (const f of this.#listeners) f(s);
  }

  isReady(): boolean {
    return this.#ready;
  }

  whenReady(): Promise<void> {
    return this.#readyPromise;
  }

  #markReady() {
    if (!this.#ready) {
      this.#ready = true;
      this.#readyResolve?.();
    }
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId;
    this.peerMetadata = peerMetadata ?? {};
    void this.#open();
    // Documents found while offline come from IndexedDB; don't hold them up.
    setTimeout(() => this.#markReady(), 1000);
  }

  async #open() {
    if (this.#stopped || this.#socket) return;
    if (!navigator.onLine) {
      this.#setState("offline");
      return; // "online" retries
    }
    this.#setState("connecting");
    let url: string;
    try {
      url = await this.ticketUrl();
    } catch (e) {
      const code = (e as { code?: number }).code;
      // Connect's Code.Unauthenticated is 16.
      if (code === 16) return this.#end("signed-out");
      this.#setState("offline");
      return this.#later();
    }
    if (this.#stopped) return;
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    this.#socket = socket;
    socket.onopen = () => {
      this.#delay = 1000;
      this.#send({
        type: "join",
        senderId: this.peerId,
        peerMetadata: this.peerMetadata,
        supportedProtocolVersions: ["1"],
      });
    };
    socket.onmessage = (event) => this.#receive(event.data as ArrayBuffer);
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (this.#remote) {
        this.emit("peer-disconnected", { peerId: this.#remote });
        this.#remote = undefined;
      }
      if (event.code === SIGNED_OUT) return this.#end("signed-out");
      if (event.code === FORBIDDEN) return this.#end("forbidden");
      this.#setState("offline");
      this.#later();
    };
  }

  #end(state: SocketState) {
    this.#stopped = true;
    this.#setState(state);
    this.#markReady();
  }

  #later() {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#open(), this.#delay);
    this.#delay = Math.min(this.#delay * 2, 30_000);
  }

  #retryNow() {
    if (this.#stopped || this.#socket) return;
    clearTimeout(this.#timer);
    this.#delay = 1000;
    void this.#open();
  }

  #receive(bytes: ArrayBuffer) {
    let message: any;
    try {
      message = cbor.decode(new Uint8Array(bytes));
    } catch {
      return;
    }
    if (message?.type === "peer") {
      this.#remote = message.senderId;
      this.#setState("online");
      this.#markReady();
      this.emit("peer-candidate", { peerId: message.senderId, peerMetadata: message.peerMetadata ?? {} });
    } else if (message?.type === "error") {
      console.warn("hub:", message.message);
    } else {
      this.emit("message", message);
    }
  }

  #send(message: unknown) {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(cbor.encode(message));
  }

  send(message: Message): void {
    if ("data" in message && message.data?.byteLength === 0) return;
    this.#send(message);
  }

  disconnect(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close(1000);
    if (this.#remote) this.emit("peer-disconnected", { peerId: this.#remote });
  }
}
