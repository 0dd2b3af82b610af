/**
 * The client's address and scheme, read through the proxies SCIM_BRIDGE_TRUST_PROXY trusts, exactly
 * as express reads `req.ip` and `req.protocol`, for the requests the SCIM API serves without
 * express. There is one trust decision: express compiles the setting (`trust proxy fn`) and both
 * paths use that function.
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import proxyaddr from "proxy-addr";
import { header } from "./handler.js";

export type Trust = (address: string, hop: number) => boolean;

export interface Forwarded {
  /** The client's address: the nearest untrusted hop of X-Forwarded-For, else the socket's peer. */
  address(req: IncomingMessage): string | undefined;
  /** `http` or `https`: X-Forwarded-Proto's first value when the peer is trusted, else the socket's own. */
  protocol(req: IncomingMessage): string;
}

export function forwardedOf(trust: Trust): Forwarded {
  return {
    address: (req) => proxyaddr(req, trust),
    protocol: (req) => {
      const own = (req.socket as Partial<TLSSocket>).encrypted ? "https" : "http";
      if (!trust(req.socket.remoteAddress ?? "", 0)) return own;
      const given = header(req, "x-forwarded-proto") || own;
      const comma = given.indexOf(",");
      return (comma === -1 ? given : given.slice(0, comma)).trim();
    },
  };
}
