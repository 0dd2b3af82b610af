/**
 * What answers outside the bridge's routes. `GET /` names the SCIM base URL and the review page
 * (JSON, or a small page for a browser); any other unknown path is a 404 in SCIM error form
 * (RFC 7644 §3.12), because the usual caller there is an IdP configured without `/scim/v2`, and
 * Okta and Entra show a SCIM error's `detail` to the admin.
 */
import type { Request, Response } from "express";
import { escapeHtml } from "../admin/web/html.js";
import { scimError } from "../scim/protocol.js";
import { send, SCIM_BASE } from "../scim/router.js";

/** The bridge's own base URL: the configured public one, else as the request reached it. */
function baseUrlOf(req: Request, publicUrl: string | undefined): string {
  return publicUrl ?? `${req.protocol}://${req.get("host") ?? "localhost"}`;
}

/** `GET /`: where to point the IdP and where to review. */
export function landing(publicUrl: string | undefined): (req: Request, res: Response) => void {
  return (req, res) => {
    const base = baseUrlOf(req, publicUrl);
    const body = { name: "scim-bridge", scimBaseUrl: `${base}${SCIM_BASE}`, reviewPage: `${base}/admin`, health: `${base}/healthz` };
    if (req.accepts(["json", "html"]) === "html") {
      res.type("html").send(
        `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>scim-bridge</title></head><body><main><h1>scim-bridge</h1>` +
          `<p>SCIM base URL (Okta "Base URL", Entra "Tenant URL"): <code>${escapeHtml(body.scimBaseUrl)}</code></p>` +
          `<p>Review queue: <a href="/admin">${escapeHtml(body.reviewPage)}</a></p></main></body></html>\n`,
      );
      return;
    }
    res.json(body);
  };
}

/** Any other path: a SCIM 404 that says where the SCIM endpoints are. */
export function notFoundOutside(publicUrl: string | undefined): (req: Request, res: Response) => void {
  return (req, res) => {
    const base = `${baseUrlOf(req, publicUrl)}${SCIM_BASE}`;
    send(res, scimError("notFound", `No such endpoint ${req.path}: the SCIM endpoints are under ${SCIM_BASE} (SCIM base URL ${base}, so this would be ${base}${req.path === "/" ? "" : req.path})`));
  };
}
